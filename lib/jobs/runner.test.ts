import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { jobLocks, jobRuns, sessions } from "@/db/control/schema";
import { createSession, sweepExpiredSessions } from "@/lib/auth/sessions";
import { createUser } from "@/lib/auth/users";
import { parseConfig, setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { makeTempDir, testConfig, useTempStore } from "@/test/store";
import { jobs, type Job } from "./jobs";
import { dueJobs, lastRuns, runJob, schedule } from "./runner";

const HOUR = 60 * 60_000;
const job = (run: Job["run"], name = "oauth-sweep"): Job => ({ name, description: "test", everyMinutes: 60, run });

describe("jobs runner", () => {
  useTempStore();

  it("records each run with its outcome and figures, and a failure with its message", async () => {
    expect(await runJob(job(() => Promise.resolve({ swept: 3 })), "cli")).toMatchObject({ outcome: "ok", figures: { swept: 3 } });
    expect(await runJob(job(() => Promise.reject(new Error("disk full"))), "schedule")).toMatchObject({ outcome: "failed", error: "disk full" });
    const control = await getControlDb();
    const runs = await control.db.select().from(jobRuns).orderBy(jobRuns.id);
    expect(runs.map((run) => [run.trigger, run.outcome, run.figures, run.error])).toEqual([
      ["cli", "ok", '{"swept":3}', null],
      ["schedule", "failed", "{}", "disk full"],
    ]);
    expect(runs.every((run) => run.endedAt !== null && run.endedAt >= run.startedAt)).toBe(true);
    // The lease is released after each run, failed or not.
    expect(await control.db.select().from(jobLocks)).toEqual([]);
  });

  it("never runs a job whose lease another process holds, and takes over a lease its holder left to lapse", async () => {
    const control = await getControlDb();
    const now = Date.now();
    await control.db.insert(jobLocks).values({ job: "oauth-sweep", holder: "other-host:1:x", acquiredAt: now, expiresAt: now + HOUR });
    let ran = 0;
    const counting = job(() => Promise.resolve({ ran: ++ran }));
    expect(await runJob(counting, "cli", now)).toMatchObject({ outcome: "skipped" });
    expect(ran).toBe(0);

    // The other holder crashed mid-run: its run stays "running" until the lease lapses.
    await control.db.insert(jobRuns).values({ job: "oauth-sweep", trigger: "schedule", startedAt: now - 2 * HOUR, outcome: "running" });
    await control.db.update(jobLocks).set({ expiresAt: now - 1 }).where(eq(jobLocks.job, "oauth-sweep"));
    expect(await runJob(counting, "cli", now)).toMatchObject({ outcome: "ok" });
    expect(ran).toBe(1);
    const runs = await control.db.select().from(jobRuns).orderBy(jobRuns.id);
    expect(runs.map((run) => run.outcome)).toEqual(["failed", "ok"]);
    expect(runs[0]?.error).toMatch(/interrupted/);
  });

  it("counts a job as due once its interval has passed since its last start, whoever started it", async () => {
    const now = Date.now();
    expect((await dueJobs(now)).map((due) => due.name)).toEqual(jobs.map((each) => each.name));
    await runJob(job(() => Promise.resolve({})), "cli", now - 30 * 60_000);
    expect((await dueJobs(now)).map((due) => due.name)).not.toContain("oauth-sweep");
    expect((await dueJobs(now + 31 * 60_000)).map((due) => due.name)).toContain("oauth-sweep");
    expect((await lastRuns()).get("oauth-sweep")?.outcome).toBe("ok");
  });

  it("runs every registered job on an empty instance without failing", async () => {
    // The backup jobs have nothing to encrypt to (or drill) on an instance without ENCLAVE_BACKUP_RECIPIENTS, and
    // billing is off without Razorpay keys: skipped, not failed.
    const notConfigured = ["backup", "backup-drill", "billing-cancellations"];
    for (const each of jobs) expect(await runJob(each, "cli"), each.name).toMatchObject({ outcome: notConfigured.includes(each.name) ? "skipped" : "ok" });
  });

  it("deletes sessions past their lifetime or idle timeout, and no live one", async () => {
    const user = await createUser({ email: "ada@example.com", password: "a long passphrase" });
    await createSession(user.id);
    await createSession(user.id);
    const control = await getControlDb();
    const [first] = await control.db.select().from(sessions).limit(1);
    await control.db.update(sessions).set({ expiresAt: Date.now() - 1 }).where(eq(sessions.id, first!.id));
    expect(await sweepExpiredSessions()).toEqual({ sessions: 1 });
    expect(await control.db.select().from(sessions)).toHaveLength(1);
    // A day later (the default idle timeout) the other one has gone idle too.
    expect(await sweepExpiredSessions(Date.now() + 25 * HOUR)).toEqual({ sessions: 1 });
  });
});

describe("job schedule", () => {
  it("overrides intervals by name and refuses a name no job has, or a malformed entry", () => {
    setConfigForTests(testConfig(makeTempDir(), { ENCLAVE_JOB_SCHEDULE: "oauth-sweep=5" }));
    expect(schedule().find((entry) => entry.job.name === "oauth-sweep")?.everyMinutes).toBe(5);
    setConfigForTests(testConfig(makeTempDir(), { ENCLAVE_JOB_SCHEDULE: "backups=5" }));
    expect(() => schedule()).toThrow(/names no such job: backups/);
    setConfigForTests(undefined);
    for (const bad of ["oauth-sweep", "oauth-sweep=0", "oauth-sweep=-1", "Oauth=5", "oauth-sweep=5m"]) {
      expect(() => parseConfig({ ENCLAVE_JOB_SCHEDULE: bad }), bad).toThrow(/ENCLAVE_JOB_SCHEDULE/);
    }
    expect(() => parseConfig({ ENCLAVE_JOBS: "sometimes" })).toThrow(/ENCLAVE_JOBS/);
  });
});

describe("enclave jobs", () => {
  const dataDir = makeTempDir();
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const enclave = (...args: string[]) => {
    const result = spawnSync(process.execPath, ["bin/enclave.mjs", ...args], {
      env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: dataDir },
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
  };

  it("lists the jobs, runs one by name and the due ones, and refuses an unknown job", () => {
    expect(enclave("jobs", "list").stdout).toMatch(/^oauth-sweep\t60m\t-\tnever run/m);
    const run = enclave("jobs", "run", "expired-sessions");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^expired-sessions: ok in \d+ ms \{"sessions":0,"clerkEndedSessions":0\}$/);
    const due = enclave("jobs", "run", "--due");
    expect(due.status).toBe(0);
    // expired-sessions just ran, so only the others were due.
    expect(due.stdout).not.toMatch(/expired-sessions/);
    expect(due.stdout).toMatch(/^oauth-sweep: ok/m);
    expect(enclave("jobs", "list").stdout).toMatch(/^expired-sessions\t60m\t\d{4}-\d\d-\d\dT[^\t]+\tok\t\{"sessions":0,"clerkEndedSessions":0\}/m);
    const unknown = enclave("jobs", "run", "backups");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no job "backups" \(jobs: oauth-sweep, expired-sessions/);
  });
});
