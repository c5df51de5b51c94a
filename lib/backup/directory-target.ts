import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ensurePrivateDir } from "../db/files";
import { BACKUP_ID_PATTERN, isSetFileName, MANIFEST_FILE } from "./manifest";
import { BackupNotFoundError, type BackupSetEntry, type BackupTarget } from "./target";

const FILE_MODE = 0o600;
/** A file being written: it gets its real name only once all of it is on disk. */
const PARTIAL_SUFFIX = ".partial";

/**
 * Backup sets as folders of one directory (ENCLAVE_BACKUP_DIR): `<dir>/<backupId>/…`, folders
 * 0700 and files 0600. Every id and file name is checked against the set layout before it is
 * joined to a path, so nothing outside `<dir>` can be named, read or removed through here.
 */
export class DirectoryTarget implements BackupTarget {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `directory ${root}`;
  }

  private setDir(backupId: string): string {
    if (!BACKUP_ID_PATTERN.test(backupId)) throw new Error(`not a backup id: ${JSON.stringify(backupId)}`);
    return path.join(this.root, backupId);
  }

  private filePath(backupId: string, file: string): string {
    if (!isSetFileName(file)) throw new Error(`not a file of a backup set: ${JSON.stringify(file)}`);
    return path.join(this.setDir(backupId), ...file.split("/"));
  }

  async write(backupId: string, file: string, body: Readable): Promise<void> {
    const final = this.filePath(backupId, file);
    ensurePrivateDir(path.dirname(final));
    const partial = final + PARTIAL_SUFFIX;
    try {
      await pipeline(body, fs.createWriteStream(partial, { flags: "w", mode: FILE_MODE }));
      // On disk before it is named: a crash must not leave a complete-looking file of zeros.
      const handle = await fsp.open(partial, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(partial, final);
    } catch (error) {
      body.destroy();
      await fsp.rm(partial, { force: true });
      throw error;
    }
  }

  async read(backupId: string, file: string): Promise<Readable> {
    const where = this.filePath(backupId, file);
    try {
      const handle = await fsp.open(where, "r");
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new BackupNotFoundError(`backup ${backupId} has no ${file} in ${this.description}`);
      throw error;
    }
  }

  async sets(): Promise<BackupSetEntry[]> {
    if (!fs.existsSync(this.root)) return [];
    const names = (await fsp.readdir(this.root)).filter((name) => BACKUP_ID_PATTERN.test(name)).sort();
    return names.map((backupId) => ({ backupId, complete: fs.existsSync(path.join(this.root, backupId, MANIFEST_FILE)) }));
  }

  async list(): Promise<string[]> {
    return (await this.sets()).filter((set) => set.complete).map((set) => set.backupId);
  }

  async files(backupId: string): Promise<string[]> {
    const dir = this.setDir(backupId);
    if (!fs.existsSync(dir)) throw new BackupNotFoundError(`no backup ${backupId} in ${this.description}`);
    // Every entry, whatever its name (a stray file is exactly what a restore must see), but not half-written ones.
    const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => !entry.isDirectory() && !entry.name.endsWith(PARTIAL_SUFFIX))
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
      .sort();
  }

  async remove(backupId: string): Promise<void> {
    await fsp.rm(this.setDir(backupId), { recursive: true, force: true });
  }
}
