import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { backupDrills } from "@/db/control/schema";
import { getConfig } from "../config";
import { getControlDb, getStore } from "../db/store";
import { logger } from "../log/logger";
import { BackupNotConfiguredError } from "./backup";
import type { DrillAuditFigures, DrillSample } from "./drill-prepare";
import { runPreparer, startDrillServer, type DrillServer } from "./drill-server";
import { smokeChecks } from "./drill-smoke";
import { restoreBackup } from "./restore";
import type { BackupTarget } from "./target";
import { configuredTarget } from "./targets";

/**
 * A restore drill proves the latest backup can be used, not only that it exists:
 *
 *   latest backup   the newest complete set on the configured target
 *   restore         restoreBackup into a fresh private temp dir (signature, hashes, age with the
 *                   identity from ENCLAVE_BACKUP_IDENTITY_FILE, integrity_check, audit chains),
 *                   with this instance's master key
 *   prepare         a child process opens the copy: a drill account, a team token, sample ids
 *   start server    a second Enclave (the production build) on a free loopback port over the copy
 *   sign-in … mcp   every primary path through HTTP (drill-smoke.ts)
 *   audit verify    after the server stopped: every chain of every file in the copy
 *
 * Then the server is stopped and the copy removed — also when a step fails or times out. Each
 * step is recorded (name, ok, ms, figures, error) in backup_drills, running → ok | failed; the
 * first failing step ends the drill and is named in its error, logged at error level.
 */
export const drillStepSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  ms: z.number(),
  figures: z.record(z.string(), z.number()).default({}),
  error: z.string().optional(),
});
export type DrillStep = z.infer<typeof drillStepSchema>;

export type DrillRecord = {
  id: number;
  backupId: string | null;
  startedAt: number;
  endedAt: number | null;
  outcome: "running" | "ok" | "failed";
  steps: DrillStep[];
  error: string | null;
};

/** The whole drill, beyond which it is stopped and failed (a server that hangs must not hang the job runner). */
export const DRILL_TIMEOUT_MS = 10 * 60_000;

class DrillTimeoutError extends Error {}

export type DrillOptions = {
  now: number;
  /** Defaults to configuredTarget(); the identity to ENCLAVE_BACKUP_IDENTITY_FILE's contents. */
  target?: BackupTarget;
  identity?: string;
  onStep?: (step: DrillStep) => void;
  timeoutMs?: number;
};

/** Where the drill's identity comes from; without one (or without recipients, so no backups), the job is skipped (jobs.ts). */
function configuredIdentity(): string {
  const config = getConfig();
  if (config.ENCLAVE_BACKUP_RECIPIENTS.length === 0) throw new BackupNotConfiguredError("no ENCLAVE_BACKUP_RECIPIENTS: there are no backups to drill");
  const file = config.ENCLAVE_BACKUP_IDENTITY_FILE;
  if (file === undefined) throw new BackupNotConfiguredError("no ENCLAVE_BACKUP_IDENTITY_FILE: a drill needs the age identity to decrypt the backup (keep it on a drill host, not on the server)");
  return fs.readFileSync(file, "utf8");
}

export async function runDrill(options: DrillOptions): Promise<DrillRecord> {
  const identity = options.identity ?? configuredIdentity();
  const target = options.target ?? configuredTarget(getConfig());
  const control = await getControlDb();
  const [row] = await control.db.insert(backupDrills).values({ startedAt: options.now, outcome: "running" }).returning({ id: backupDrills.id });
  if (!row) throw new Error("backup_drills insert returned no row");
  const steps: DrillStep[] = [];
  let backupId: string | null = null;
  let workDir: string | null = null;
  let server: DrillServer | null = null;
  let failure: string | null = null;

  const step = async <T>(name: string, fn: () => Promise<{ value: T; figures?: Record<string, number> }>): Promise<T> => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const { value, figures = {} } = await fn();
      record({ name, ok: true, ms: ms(), figures });
      return value;
    } catch (error) {
      record({ name, ok: false, ms: ms(), figures: {}, error: (error as Error).message });
      throw new DrillStepError(name, (error as Error).message);
    }
  };
  const record = (done: DrillStep) => {
    steps.push(done);
    options.onStep?.(done);
  };

  const drill = async () => {
    backupId = await step("latest backup", async () => {
      const ids = await target.list();
      const latest = ids.at(-1);
      if (!latest) throw new Error(`no complete backup on ${target.description}`);
      return { value: latest, figures: { sets: ids.length } };
    });
    const found = backupId;
    await control.db.update(backupDrills).set({ backupId: found }).where(eq(backupDrills.id, row.id));
    workDir = await fsp.mkdtemp(path.join(os.tmpdir(), "enclave-drill-"));
    await fsp.chmod(workDir, 0o700);
    const dataDir = path.join(workDir, "data");
    await step("restore", async () => {
      const restored = await restoreBackup({ target, backupId: found, identity, masterKey: getStore().masterKey, to: dataDir });
      return { value: restored, figures: { files: restored.files, bytes: restored.bytes } };
    });
    const sample = await step("prepare", async () => {
      const prepared = await runPreparer<DrillSample>(dataDir, "prepare");
      return { value: prepared, figures: { workspaces: prepared.workspaces, events: prepared.eventCount } };
    });
    server = await step("start server", async () => ({ value: await startDrillServer(dataDir) }));
    for (const check of smokeChecks(server.url, sample)) {
      await step(check.name, async () => ({ value: null, figures: await check.run() }));
    }
    const running = server;
    server = null;
    await running.stop();
    await step("audit verify", async () => {
      const audit = await runPreparer<DrillAuditFigures>(dataDir, "verify");
      if (audit.broken.length > 0) throw new Error(`audit chains broken: ${audit.broken.join("; ")}`);
      return { value: audit, figures: { files: audit.files, rows: audit.rows } };
    });
  };

  const timeoutMs = options.timeoutMs ?? DRILL_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      drill(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DrillTimeoutError(`the drill took longer than ${timeoutMs / 1000} s`)), timeoutMs))),
    ]);
  } catch (error) {
    failure = error instanceof DrillStepError ? `${error.step}: ${error.message}` : (error as Error).message;
  } finally {
    clearTimeout(timer);
    // Teardown, whatever happened: the copy holds every workspace's data, decrypted from age.
    await (server as DrillServer | null)?.stop().catch(() => undefined);
    if (workDir) await fsp.rm(workDir, { recursive: true, force: true });
  }

  const outcome = failure === null ? "ok" : "failed";
  await control.db.update(backupDrills).set({ outcome, endedAt: Date.now(), steps: JSON.stringify(steps), error: failure }).where(eq(backupDrills.id, row.id));
  if (failure !== null) logger.error({ drill: row.id, backupId, error: failure }, "backup drill FAILED: the latest backup could not be restored and served");
  else logger.info({ drill: row.id, backupId, steps: steps.length }, "backup drill passed");
  const saved = await readDrill(row.id);
  if (!saved) throw new Error(`backup drill ${row.id} vanished`);
  return saved;
}

class DrillStepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

/** The weekly job: a drill of the latest backup; a failed drill fails the job (the runner records and logs it). */
export async function drillJob(now: number): Promise<Record<string, number>> {
  const drill = await runDrill({ now });
  if (drill.outcome !== "ok") throw new Error(`backup drill ${drill.id} failed at ${drill.error ?? "an unknown step"}`);
  return { steps: drill.steps.length, seconds: Math.round(drill.steps.reduce((total, done) => total + done.ms, 0) / 100) / 10 };
}

const stepsOf = (text: string): DrillStep[] => {
  const parsed = z.array(drillStepSchema).safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : [];
};

type DrillRow = typeof backupDrills.$inferSelect;
const toRecord = (row: DrillRow): DrillRecord => ({ ...row, steps: stepsOf(row.steps) });

async function readDrill(id: number): Promise<DrillRecord | null> {
  const control = await getControlDb();
  const [row] = await control.db.select().from(backupDrills).where(eq(backupDrills.id, id));
  return row ? toRecord(row) : null;
}

/** The newest drills first, for `enclave backup drills`. */
export async function recentDrills(limit = 10): Promise<DrillRecord[]> {
  const control = await getControlDb();
  return (await control.db.select().from(backupDrills).orderBy(desc(backupDrills.startedAt), desc(backupDrills.id)).limit(limit)).map(toRecord);
}

/** The last drill, for the operator status; null when none has run. */
export async function lastDrill(): Promise<DrillRecord | null> {
  return (await recentDrills(1))[0] ?? null;
}
