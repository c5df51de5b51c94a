import { sweepAuditRetention } from "../audit/retention";
import { BackupNotConfiguredError } from "../backup/backup";
import { backupJob } from "../backup/job";
import { JobNotConfiguredError } from "./runner";
import { sweepExpiredSessions } from "../auth/sessions";
import { sweepIdentityRows } from "../auth/identity-sweep";
import { sweepEndedClerkSessions } from "../auth/clerk-sessions";
import { drillJob } from "../backup/drill";
import { purgeClosedAccounts, purgeDeletedWorkspaces } from "../lifecycle/purge";
import { sweepExpiredOAuthRows } from "../oauth/sweep";
import { settleOwedCancellations } from "../billing/cancellation";
import { getConfig } from "../config";

/**
 * Everything Enclave does on a schedule, in one table. Each job is idempotent and safe to stop
 * at any point: the next run finishes what a crashed one left, so the runner can simply run it
 * again. `everyMinutes` is the default; ENCLAVE_JOB_SCHEDULE overrides it per job.
 */
export type JobFigures = Record<string, number>;

export type Job = {
  readonly name: string;
  readonly description: string;
  readonly everyMinutes: number;
  run(now: number): Promise<JobFigures>;
};

/** lib/backup says "not configured" in its own error (it cannot import the runner without a cycle): a skipped run, not a failure. */
const skippedUnlessConfigured =
  (run: Job["run"]): Job["run"] =>
  async (now) => {
    try {
      return await run(now);
    } catch (error) {
      if (error instanceof BackupNotConfiguredError) throw new JobNotConfiguredError(error.message);
      throw error;
    }
  };

const HOUR = 60;
const DAY = 24 * HOUR;

export const jobs: readonly Job[] = [
  {
    name: "oauth-sweep",
    description: "forget expired OAuth codes and tokens, and grants with no token left",
    everyMinutes: HOUR,
    run: sweepExpiredOAuthRows,
  },
  {
    name: "expired-sessions",
    description: "delete portal sessions past their idle timeout or lifetime, and ended Clerk session ids past their keep",
    everyMinutes: HOUR,
    run: async (now) => ({ ...(await sweepExpiredSessions(now)), ...(await sweepEndedClerkSessions(now)) }),
  },
  {
    name: "identity-sweep",
    description: "forget spent or expired mailed links, finished invitations and answered access requests after 30 days, webhook receipts after 30 days",
    everyMinutes: HOUR,
    run: sweepIdentityRows,
  },
  {
    name: "billing-cancellations",
    description: "ask Razorpay again to cancel the subscriptions of deleted workspaces and closed accounts; fails while any is still refused",
    everyMinutes: 15,
    run: async (now) => {
      if (!getConfig().billing) throw new JobNotConfiguredError("billing is off (no Razorpay keys)");
      const figures = await settleOwedCancellations({}, now);
      // A failed run is what the operator sees (jobs list, /api/operator/status): an owed cancellation is never quietly carried.
      if (figures.failed > 0) throw new Error(`${figures.failed} Razorpay cancellation(s) still refused, ${figures.stillOwed} owed in all: see /api/operator/status billing.lastError`);
      return figures;
    },
  },
  {
    name: "audit-retention",
    description: "delete audit rows older than ENCLAVE_AUDIT_RETENTION_DAYS, anchoring each chain at the last deleted row",
    everyMinutes: DAY,
    run: sweepAuditRetention,
  },
  {
    name: "workspace-purge",
    description: "erase deleted workspaces whose hold has passed: the file, its -wal and -shm, its folder, then its rows",
    everyMinutes: HOUR,
    run: purgeDeletedWorkspaces,
  },
  {
    name: "account-purge",
    description: "erase closed accounts whose hold has passed, and the workspaces that went with them, keeping a tombstone",
    everyMinutes: HOUR,
    run: purgeClosedAccounts,
  },
  {
    name: "backup",
    description: "snapshot control.db and every workspace, age-encrypt them to ENCLAVE_BACKUP_RECIPIENTS with a signed manifest, then prune sets past ENCLAVE_BACKUP_RETENTION_DAYS",
    everyMinutes: DAY,
    run: skippedUnlessConfigured(backupJob),
  },
  {
    name: "backup-drill",
    description: "restore the latest backup into a temp dir, serve it on a loopback port and smoke-test every primary path, then remove it",
    everyMinutes: 7 * DAY,
    run: skippedUnlessConfigured(drillJob),
  },
];

export const jobNames: readonly string[] = jobs.map((job) => job.name);

export function findJob(name: string): Job | undefined {
  return jobs.find((job) => job.name === name);
}
