import { BACKUP_ID_PATTERN } from "./manifest";
import type { BackupTarget } from "./target";

const DAY_MS = 24 * 60 * 60_000;
/** A set still without its manifest after this long is a run that died, not one under way. */
const INCOMPLETE_AFTER_MS = DAY_MS;

/** When a set was taken, from its id (`20261202T053000Z-…`). */
export function backupIdTime(backupId: string): number {
  if (!BACKUP_ID_PATTERN.test(backupId)) throw new Error(`not a backup id: ${JSON.stringify(backupId)}`);
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(backupId) ?? [];
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/**
 * The retention sweep: removes complete sets older than `days` — but never the newest complete
 * one, so a server whose backups stopped still has its last — and incomplete sets (no
 * manifest) older than a day. Idempotent: a sweep interrupted half-way leaves sets the next
 * one removes. Returns how many sets it removed.
 */
export async function pruneBackups(target: BackupTarget, now: number, days: number): Promise<number> {
  const sets = await target.sets();
  const newestComplete = sets.filter((set) => set.complete).at(-1)?.backupId;
  const doomed = sets.filter(({ backupId, complete }) => {
    if (backupId === newestComplete) return false;
    const age = now - backupIdTime(backupId);
    return complete ? age > days * DAY_MS : age > INCOMPLETE_AFTER_MS;
  });
  for (const { backupId } of doomed) await target.remove(backupId);
  return doomed.length;
}
