import { z } from "zod";
import { lastDrill } from "../backup/drill";
import { getControlDb } from "../db/store";
import { lastRuns, schedule } from "../jobs/runner";
import type { SecurityState } from "./security-facts";

const cipherVersionRows = z.array(z.object({ cipher_version: z.string().min(1) })).min(1);

/** The database side of /security: the driver's SQLCipher version, job intervals, the last backup and drill. */
export async function readSecurityState(): Promise<SecurityState> {
  const control = await getControlDb();
  // Asked of the open control.db itself, so the page reports the cipher in use, not the one intended.
  const cipher = cipherVersionRows.safeParse(await control.rows("PRAGMA cipher_version"));
  const runs = await lastRuns();
  const backup = runs.get("backup");
  const drill = await lastDrill();
  return {
    cipherVersion: cipher.success ? cipher.data[0]!.cipher_version : null,
    jobEveryMinutes: Object.fromEntries(schedule().map(({ job, everyMinutes }) => [job.name, everyMinutes])),
    lastBackup: backup ? { startedAt: backup.startedAt, outcome: backup.outcome } : null,
    lastDrill: drill ? { startedAt: drill.startedAt, outcome: drill.outcome, error: drill.error } : null,
  };
}
