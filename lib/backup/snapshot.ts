import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Connection } from "../db/connection";

/**
 * A consistent copy of one live SQLCipher database, taken while the server writes to it.
 *
 * `db.backup()` copies nothing from an encrypted file, and copying the file itself would catch
 * a write half-way (and leave out the WAL). Instead a connection of its own opens the file,
 * begins a read transaction — in WAL mode it then sees exactly the commits made before its
 * first read, whatever the writer does meanwhile, and holds no lock a writer waits on — and
 * `sqlcipher_export` copies every table, index, trigger and virtual table (FTS5 with its
 * shadow tables) into a new file ATTACHed with the SAME raw key. The snapshot therefore opens
 * with the key derived for the original (deriveControlKey / deriveWorkspaceKey) and is
 * encrypted at rest in the temp dir too. sqlcipher_export does not carry `user_version`, so it
 * is copied by hand (nothing here uses it today; a faithful copy should not depend on that).
 */
export type SnapshotInfo = {
  /** Migrations applied to the snapshot: rows in its __drizzle_migrations. */
  schemaVersion: number;
};

const FILE_MODE = 0o600;

/** Writes a snapshot of `source` (opened with `key`) to `outFile`, which must not exist; removes it on failure. */
export async function snapshotDatabase(source: string, key: Buffer, outFile: string): Promise<SnapshotInfo> {
  // Created here, 0600, so SQLite never creates it with the process umask.
  fs.closeSync(fs.openSync(outFile, "wx", FILE_MODE));
  let connection: Connection | undefined;
  try {
    connection = await Connection.open(source, key, { create: false });
    const hexKey = key.toString("hex");
    // The path is ours (a private temp dir), but it is still bound, never spliced into the SQL.
    await connection.run(`ATTACH DATABASE ? AS snap KEY "x'${hexKey}'"`, [outFile]);
    await connection.exec("BEGIN");
    const [version] = await connection.all("PRAGMA main.user_version");
    const [migrations] = await connection.all("SELECT count(*) AS n FROM main.__drizzle_migrations");
    await connection.all("SELECT sqlcipher_export('snap')");
    await connection.exec(`PRAGMA snap.user_version = ${Number(version?.user_version ?? 0)}`);
    await connection.exec("COMMIT");
    await connection.exec("DETACH DATABASE snap");
    return { schemaVersion: Number(migrations?.n ?? 0) };
  } catch (error) {
    await connection?.exec("ROLLBACK").catch(() => undefined);
    await removeDatabaseFile(outFile);
    throw error;
  } finally {
    await connection?.close();
  }
}

/** A database file and the journal files SQLite may leave beside it. */
export async function removeDatabaseFile(file: string): Promise<void> {
  await Promise.all(["", "-journal", "-wal", "-shm"].map((suffix) => fsp.rm(file + suffix, { force: true })));
}

/**
 * Runs `fn` with a fresh 0700 folder under the system temp dir (never the data dir: a snapshot
 * there would travel with it), removed afterwards whether `fn` succeeds or throws.
 */
export async function withPrivateTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  await fsp.chmod(dir, 0o700);
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
