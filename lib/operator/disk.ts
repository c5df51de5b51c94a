import fs from "node:fs";
import path from "node:path";

/**
 * Bytes on disk, for operators: what a folder's files hold (a workspace's file with its -wal
 * and -shm, or the whole data dir) and what the filesystem under it has left.
 */
export function bytesUnder(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    // Gone meanwhile (a purge), or never made: nothing there.
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(full);
    else if (entry.isFile()) total += fileSize(full);
  }
  return total;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Free and total bytes of the filesystem holding `dir` (free: what an unprivileged writer may still use). */
export async function diskSpace(dir: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const stats = await fs.promises.statfs(dir);
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}
