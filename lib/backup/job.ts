import { getConfig } from "../config";
import { runBackup } from "./backup";
import { pruneBackups } from "./prune";
import { configuredTarget } from "./targets";

/** The nightly backup job: a new set, then the retention sweep (only after a set succeeded, so a failing backup never prunes the last good one). */
export async function backupJob(now: number): Promise<Record<string, number>> {
  const config = getConfig();
  const target = configuredTarget(config);
  const result = await runBackup({ now, target });
  const pruned = await pruneBackups(target, now, config.ENCLAVE_BACKUP_RETENTION_DAYS);
  return { files: result.files, bytes: result.bytes, skipped: result.skipped, seconds: Math.round(result.ms / 100) / 10, pruned };
}
