import fs from "node:fs";
import path from "node:path";
import { logger } from "../log/logger";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * Walks the data dir and puts every folder back to 0700 and every file to 0600, logging each
 * correction: a backup restored with a loose umask should not stay world-readable.
 */
export function enforceDataDirModes(dataDir: string): number {
  let corrected = 0;
  const visit = (entry: string) => {
    // The data dir itself may be a symlink (to another disk); links inside it are not followed.
    const stat = entry === dataDir ? fs.statSync(entry) : fs.lstatSync(entry);
    if (stat.isSymbolicLink()) return;
    const wanted = stat.isDirectory() ? DIR_MODE : FILE_MODE;
    if ((stat.mode & 0o777) !== wanted) {
      fs.chmodSync(entry, wanted);
      corrected += 1;
      logger.warn({ path: entry, was: (stat.mode & 0o777).toString(8), now: wanted.toString(8) }, "corrected file mode");
    }
    if (stat.isDirectory()) for (const child of fs.readdirSync(entry)) visit(path.join(entry, child));
  };
  visit(dataDir);
  return corrected;
}

/**
 * Replaces `file` with `text` (mode 0600) so that a crash at any moment leaves either the old
 * content or the new, never a torn file: written beside it, fsynced, renamed over it, and the
 * folder fsynced so the rename itself survives a power cut.
 */
export function writeFileAtomic(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, "w", FILE_MODE);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  fsyncDir(path.dirname(file));
}

/** Makes a rename or removal in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
