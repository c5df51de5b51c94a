import os from "node:os";
import { and, desc, eq, lt } from "drizzle-orm";
import { jobLocks, jobRuns, type JobRun } from "@/db/control/schema";
import { ConfigError, getConfig } from "../config";
import { randomId } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { logger } from "../log/logger";
import { jobs, type Job, type JobFigures } from "./jobs";

/**
 * Runs one job under its lease and records the run. The lease (job_locks) is taken in a
 * control.db transaction, so the server's scheduler and a systemd timer's `enclave jobs run`
 * never run the same job at once; it is renewed while the job runs and released after, and a
 * lease whose holder died is taken over once it lapses (every job resumes what it left).
 */
const LEASE_MS = 10 * 60_000;
const RENEW_EVERY_MS = LEASE_MS / 3;
/** Run records older than this are forgotten; the audit trail keeps what the jobs did. */
const RUNS_KEPT_MS = 90 * 24 * 60 * 60_000;

export type Trigger = JobRun["trigger"];
export type RunResult =
  | { outcome: "ok"; figures: JobFigures; ms: number }
  | { outcome: "failed"; error: string; ms: number }
  | { outcome: "skipped"; reason: string };

/**
 * Thrown by a job that has nothing to do because the operator has not set it up (backups with
 * no recipients): the run is recorded as `skipped` with this message, not as a failure.
 */
export class JobNotConfiguredError extends Error {
  override name = "JobNotConfiguredError";
}

/** This process, as a lease holder. */
const holder = `${os.hostname()}:${process.pid}:${randomId("run")}`;

/** How often each job runs, after ENCLAVE_JOB_SCHEDULE; refuses a name no job has. */
export function schedule(): { job: Job; everyMinutes: number }[] {
  const overrides = getConfig().ENCLAVE_JOB_SCHEDULE;
  const unknown = Object.keys(overrides).filter((name) => !jobs.some((job) => job.name === name));
  if (unknown.length > 0) throw new ConfigError(`ENCLAVE_JOB_SCHEDULE names no such job: ${unknown.join(", ")} (jobs: ${jobs.map((job) => job.name).join(", ")})`);
  return jobs.map((job) => ({ job, everyMinutes: overrides[job.name] ?? job.everyMinutes }));
}

async function takeLease(name: string, now: number): Promise<boolean> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const [current] = await tx.select().from(jobLocks).where(eq(jobLocks.job, name));
    if (current && current.expiresAt > now && current.holder !== holder) return false;
    // A lapsed lease means its holder died mid-run: say so on the run it left "running".
    if (current) {
      await tx
        .update(jobRuns)
        .set({ outcome: "failed", endedAt: now, error: "interrupted: the process running it stopped before it finished" })
        .where(and(eq(jobRuns.job, name), eq(jobRuns.outcome, "running")));
    }
    await tx
      .insert(jobLocks)
      .values({ job: name, holder, acquiredAt: now, expiresAt: now + LEASE_MS })
      .onConflictDoUpdate({ target: jobLocks.job, set: { holder, acquiredAt: now, expiresAt: now + LEASE_MS } });
    return true;
  });
}

async function renewLease(name: string): Promise<void> {
  const control = await getControlDb();
  await control.db.update(jobLocks).set({ expiresAt: Date.now() + LEASE_MS }).where(and(eq(jobLocks.job, name), eq(jobLocks.holder, holder)));
}

async function releaseLease(name: string): Promise<void> {
  const control = await getControlDb();
  await control.db.delete(jobLocks).where(and(eq(jobLocks.job, name), eq(jobLocks.holder, holder)));
}

export async function runJob(job: Job, trigger: Trigger, now = Date.now()): Promise<RunResult> {
  const control = await getControlDb();
  if (!(await takeLease(job.name, now))) {
    logger.info({ job: job.name, trigger }, "job skipped: another process holds its lease");
    return { outcome: "skipped", reason: "another process is running it" };
  }
  const started = performance.now();
  const renewer = setInterval(() => void renewLease(job.name).catch((error: unknown) => logger.warn({ err: error, job: job.name }, "job lease renewal failed")), RENEW_EVERY_MS);
  renewer.unref();
  const [run] = await control.db.insert(jobRuns).values({ job: job.name, trigger, startedAt: now, outcome: "running" }).returning({ id: jobRuns.id });
  const finish = (values: Partial<JobRun>) => control.db.update(jobRuns).set({ endedAt: Date.now(), ...values }).where(eq(jobRuns.id, run!.id));
  try {
    const figures = await job.run(now);
    const ms = Math.round(performance.now() - started);
    await finish({ outcome: "ok", figures: JSON.stringify(figures) });
    logger.info({ job: job.name, trigger, ms, ...figures }, "job finished");
    return { outcome: "ok", figures, ms };
  } catch (error) {
    if (error instanceof JobNotConfiguredError) {
      await finish({ outcome: "skipped", error: error.message });
      logger.info({ job: job.name, trigger, reason: error.message }, "job skipped: not configured");
      return { outcome: "skipped", reason: error.message };
    }
    const ms = Math.round(performance.now() - started);
    // The message only: a stack trace is for the log line, not the run record operators read.
    const message = error instanceof Error ? error.message : String(error);
    await finish({ outcome: "failed", error: message.slice(0, 2000) });
    logger.error({ err: error, job: job.name, trigger, ms }, "job failed");
    return { outcome: "failed", error: message, ms };
  } finally {
    clearInterval(renewer);
    await releaseLease(job.name);
    await control.db.delete(jobRuns).where(and(eq(jobRuns.job, job.name), lt(jobRuns.startedAt, now - RUNS_KEPT_MS)));
  }
}

/** The newest run of each job, for `enclave jobs list` and the scheduler. */
export async function lastRuns(): Promise<Map<string, JobRun>> {
  const control = await getControlDb();
  const last = new Map<string, JobRun>();
  for (const job of jobs) {
    const [run] = await control.db.select().from(jobRuns).where(eq(jobRuns.job, job.name)).orderBy(desc(jobRuns.id)).limit(1);
    if (run) last.set(job.name, run);
  }
  return last;
}

/** Jobs whose interval has passed since their last start (by any process), or that never ran. */
export async function dueJobs(now = Date.now()): Promise<Job[]> {
  const last = await lastRuns();
  return schedule()
    .filter(({ job, everyMinutes }) => {
      const run = last.get(job.name);
      return !run || run.startedAt + everyMinutes * 60_000 <= now;
    })
    .map(({ job }) => job);
}
