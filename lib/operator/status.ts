import fs from "node:fs";
import path from "node:path";
import { and, count, desc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import { z } from "zod";
import { backupDrills, jobRuns, oauthClients, sessions, teamTokens, users, workspaces, type BackupDrill, type JobRun } from "@/db/control/schema";
import { owedCancellationsStatus } from "../billing/cancellation";
import { getConfig } from "../config";
import { storageHealth } from "../db/storage-health";
import { getControlDb, getStore } from "../db/store";
import { jobs } from "../jobs/jobs";
import { lastRuns } from "../jobs/runner";
import { bytesUnder, diskSpace } from "./disk";

/**
 * GET /api/operator/status: how this instance is doing, in figures an operator (or a monitor)
 * reads — never a row's contents, a secret or a hash.
 */
const BACKUP_JOB = "backup";

const jobRunSchema = z
  .object({
    trigger: z.enum(["schedule", "cli", "operator"]),
    startedAt: z.number(),
    endedAt: z.number().nullable(),
    outcome: z.enum(["running", "ok", "failed", "skipped"]),
    figures: z.record(z.string(), z.number()),
    error: z.string().nullable(),
  })
  .meta({ id: "OperatorJobRun" });

const drillSchema = z.object({
  backupId: z.string().nullable(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  outcome: z.enum(["running", "ok", "failed"]),
  steps: z.array(z.record(z.string(), z.unknown())),
  error: z.string().nullable(),
});

export const operatorStatusSchema = z.object({
  version: z.string(),
  startedAt: z.number(),
  uptimeSeconds: z.number(),
  counts: z.object({
    users: z.number().describe("accounts, closed ones' tombstones aside"),
    suspendedUsers: z.number(),
    workspaces: z.number(),
    deletedWorkspaces: z.number().describe("deleted, restorable until purged"),
    sessions: z.number().describe("portal sessions not past their lifetime"),
    teamTokens: z.number().describe("live: neither revoked nor expired"),
    oauthClients: z.number(),
  }),
  storage: z
    .object({
      dataDir: z.string(),
      dataBytes: z.number().describe("every file under the data dir"),
      freeBytes: z.number().describe("free space of the data dir's filesystem"),
      totalBytes: z.number(),
      openWorkspaceHandles: z.number(),
      lowSpaceBytes: z.number().describe("below this much free space /api/health says degraded (ENCLAVE_LOW_DISK_MB)"),
      damaged: z
        .array(z.object({ workspaceId: z.string().nullable().describe("null: control.db"), since: z.number(), reason: z.string() }))
        .describe("workspaces answering 503 storage_damaged: restore each with `enclave backup restore --workspace`"),
      diskFull: z
        .object({ since: z.number(), reason: z.string(), databases: z.array(z.string()) })
        .nullable()
        .describe("set while writes answer 507 storage_full"),
    })
    .describe("The data dir's disk and handles, and storage faults (damaged files, a full disk)"),
  jobs: z.array(z.object({ name: z.string(), description: z.string(), lastRun: jobRunSchema.nullable() })),
  lastBackup: jobRunSchema.nullable().describe("the last run of the backup job"),
  lastDrill: drillSchema.nullable().describe("the newest restore drill"),
  billing: z
    .object({
      cancellationsOwed: z.number().describe("subscriptions of deleted workspaces or closed accounts Razorpay has not yet confirmed cancelled"),
      oldestOwedSince: z.number().nullable(),
      lastError: z.string().nullable().describe("what Razorpay answered to the oldest failing one"),
    })
    .nullable()
    .describe("null when billing is off (no Razorpay keys)"),
});
export type OperatorStatus = z.infer<typeof operatorStatusSchema>;

// Read once: the running code's version does not change under it.
let version: string | undefined;
const packageVersion = (): string =>
  (version ??= (JSON.parse(fs.readFileSync(path.join(process.cwd(), "package.json"), "utf8")) as { version: string }).version);

const runView = (run: JobRun | undefined): z.infer<typeof jobRunSchema> | null =>
  run ? { trigger: run.trigger, startedAt: run.startedAt, endedAt: run.endedAt, outcome: run.outcome, figures: JSON.parse(run.figures) as Record<string, number>, error: run.error } : null;

const drillView = (drill: BackupDrill | undefined): z.infer<typeof drillSchema> | null =>
  drill
    ? { backupId: drill.backupId, startedAt: drill.startedAt, endedAt: drill.endedAt, outcome: drill.outcome, steps: JSON.parse(drill.steps) as Record<string, unknown>[], error: drill.error }
    : null;

async function counts(now: number): Promise<OperatorStatus["counts"]> {
  const { db } = await getControlDb();
  const total = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
  return {
    users: await total(db.select({ n: count() }).from(users).where(isNull(users.closedAt))),
    suspendedUsers: await total(db.select({ n: count() }).from(users).where(and(isNull(users.closedAt), isNotNull(users.suspendedAt)))),
    workspaces: await total(db.select({ n: count() }).from(workspaces).where(isNull(workspaces.deletedAt))),
    deletedWorkspaces: await total(db.select({ n: count() }).from(workspaces).where(isNotNull(workspaces.deletedAt))),
    sessions: await total(db.select({ n: count() }).from(sessions).where(gt(sessions.expiresAt, now))),
    teamTokens: await total(db.select({ n: count() }).from(teamTokens).where(and(isNull(teamTokens.revokedAt), gt(teamTokens.expiresAt, now)))),
    oauthClients: await total(db.select({ n: count() }).from(oauthClients)),
  };
}

/** The storage part of the status: disk, handles and faults. */
async function storage(): Promise<OperatorStatus["storage"]> {
  const { dataDir } = getConfig();
  const { damaged, diskFull, lowSpaceBytes } = storageHealth();
  return {
    dataDir,
    dataBytes: bytesUnder(dataDir),
    ...(await diskSpace(dataDir)),
    openWorkspaceHandles: getStore().openWorkspaceCount,
    lowSpaceBytes,
    damaged,
    diskFull,
  };
}

async function billingStatus(): Promise<NonNullable<OperatorStatus["billing"]>> {
  const owed = await owedCancellationsStatus();
  return { cancellationsOwed: owed.owed, oldestOwedSince: owed.oldestOwedSince, lastError: owed.lastError };
}

export async function operatorStatus(now = Date.now()): Promise<OperatorStatus> {
  const { db } = await getControlDb();
  const runs = await lastRuns();
  const [drill] = await db.select().from(backupDrills).orderBy(desc(backupDrills.startedAt), desc(backupDrills.id)).limit(1);
  const [backup] = await db.select().from(jobRuns).where(eq(jobRuns.job, BACKUP_JOB)).orderBy(desc(jobRuns.id)).limit(1);
  const uptimeSeconds = Math.round(process.uptime());
  return {
    version: packageVersion(),
    startedAt: now - uptimeSeconds * 1000,
    uptimeSeconds,
    counts: await counts(now),
    storage: await storage(),
    jobs: jobs.map((job) => ({ name: job.name, description: job.description, lastRun: runView(runs.get(job.name)) })),
    lastBackup: runView(backup),
    lastDrill: drillView(drill),
    billing: getConfig().billing ? await billingStatus() : null,
  };
}
