import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { auditLog as controlAuditLog, controlSchema } from "@/db/control/schema";
import { auditLog as workspaceAuditLog, workspaceSchema } from "@/db/workspace/schema";
import { verifyAuditChain } from "../audit/chain";
import { auditSigner } from "../audit/checkpoint";
import { deriveControlKey, deriveWorkspaceKey, MASTER_KEY_FILE } from "../crypto/keys";
import { Connection, WrongKeyError } from "../db/connection";
import { Database } from "../db/database";
import { ensurePrivateDir } from "../db/files";
import { ageDecrypt, parseIdentityFile, tally } from "./age-stream";
import { BACKUP_ID_PATTERN, MANIFEST_FILE, verifyManifest, type BackupFile, type Manifest } from "./manifest";
import { removeDatabaseFile } from "./snapshot";
import type { BackupTarget } from "./target";

/**
 * Restoring a backup set trusts nothing in it until it is checked, in this order:
 *   1. manifest.json: its shape and its signature by THIS master key's audit key (a backup of
 *      another instance, or from before a key rotation, fails here, saying so);
 *   2. the set holds exactly the files the manifest lists (no extra file, none missing);
 *   3. each file, streamed: ciphertext size and SHA-256, age decryption with the identity
 *      (which authenticates every chunk), plaintext size and SHA-256, all against the manifest;
 *   4. each database opens with the key derived from the master key, `PRAGMA integrity_check`
 *      says ok, its migrations match the manifest, and its audit chain verifies.
 * Any failure removes everything the restore wrote, and the error says what did not fit.
 */
export class BackupRestoreError extends Error {
  override name = "BackupRestoreError";
}

/** manifest.json is small (a few hundred bytes per workspace); anything far larger is not one. */
const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;

export type RestoreResult = { backupId: string; files: number; bytes: number; ms: number; manifest: Manifest };

/** The set's manifest, checked against the public half of `masterKey`'s audit signing key. */
export async function readVerifiedManifest(target: BackupTarget, backupId: string, masterKey: Buffer): Promise<Manifest> {
  if (!BACKUP_ID_PATTERN.test(backupId)) throw new BackupRestoreError(`not a backup id: ${JSON.stringify(backupId.slice(0, 80))} (expected one such as 20261202T053000Z-1a2b3c)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await target.read(backupId, MANIFEST_FILE)) {
    size += (chunk as Buffer).length;
    if (size > MANIFEST_MAX_BYTES) throw new BackupRestoreError(`backup ${backupId}: manifest.json is over ${MANIFEST_MAX_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const verdict = verifyManifest(Buffer.concat(chunks).toString("utf8"), auditSigner(masterKey).publicKey);
  if (!verdict.ok) throw new BackupRestoreError(`backup ${backupId}: ${verdict.reason}`);
  // A manifest copied in from another set would vouch for that set's files, not this one's.
  if (verdict.manifest.backupId !== backupId) throw new BackupRestoreError(`backup ${backupId}: its manifest is the manifest of backup ${verdict.manifest.backupId}`);
  return verdict.manifest;
}

/**
 * Restores one database of a set into `outFile` (which must not exist), checked as above; on
 * any failure `outFile` is removed. The live single-workspace swap restores into a temp file
 * with this, then moves it into place.
 */
export async function restoreDatabaseFile(options: {
  target: BackupTarget;
  backupId: string;
  manifest: Manifest;
  /** `control` or a workspace id, as the manifest names it. */
  database: string;
  /** The text of an age identity file (AGE-SECRET-KEY-1… lines). */
  identity: string;
  masterKey: Buffer;
  outFile: string;
}): Promise<BackupFile> {
  const { target, backupId, manifest, database, outFile } = options;
  const entry = manifest.files.find((file) => file.database === database);
  if (!entry) throw new BackupRestoreError(`backup ${backupId} holds no ${database === "control" ? "control.db" : `workspace ${database}`}`);
  const where = `backup ${backupId}, ${entry.path}`;
  const identities = parseIdentityFile(options.identity);
  fs.closeSync(fs.openSync(outFile, "wx", 0o600));
  try {
    // Stop reading as soon as a file is longer than the manifest says: a swapped-in huge file is not read to its end.
    const ciphertext = tally(await target.read(backupId, entry.path), (bytes) => {
      if (bytes > entry.ciphertextBytes) throw new BackupRestoreError(`${where}: longer than the ${entry.ciphertextBytes} bytes the manifest lists`);
    });
    let plaintext;
    try {
      plaintext = tally(await ageDecrypt(ciphertext.stream, identities));
      await pipeline(plaintext.stream, fs.createWriteStream(outFile, { flags: "w" }));
    } catch (error) {
      if (error instanceof BackupRestoreError) throw error;
      throw new BackupRestoreError(`${where}: cannot be decrypted with this identity, or is damaged (${(error as Error).message})`, { cause: error });
    }
    const cipher = ciphertext.figures();
    const plain = plaintext.figures();
    if (cipher.bytes !== entry.ciphertextBytes || cipher.sha256 !== entry.ciphertextSha256) throw new BackupRestoreError(`${where}: its ciphertext does not match the manifest (${cipher.bytes} bytes, SHA-256 ${cipher.sha256}; listed: ${entry.ciphertextBytes}, ${entry.ciphertextSha256})`);
    if (plain.bytes !== entry.plaintextBytes || plain.sha256 !== entry.plaintextSha256) throw new BackupRestoreError(`${where}: its plaintext does not match the manifest`);
    await checkDatabase(outFile, database, options.masterKey, entry, where);
    return entry;
  } catch (error) {
    await removeDatabaseFile(outFile);
    throw error;
  }
}

/** Opens the restored file with its derived key; integrity, migrations and audit chain must all hold. */
async function checkDatabase(file: string, database: string, masterKey: Buffer, entry: BackupFile, where: string): Promise<void> {
  const key = database === "control" ? deriveControlKey(masterKey) : deriveWorkspaceKey(masterKey, database);
  let connection: Connection;
  try {
    connection = await Connection.open(file, key, { create: false });
  } catch (error) {
    if (error instanceof WrongKeyError) throw new BackupRestoreError(`${where}: the master key does not open it (a backup of another instance, or of another database)`);
    throw error;
  }
  try {
    const integrity = (await connection.all("PRAGMA integrity_check")).map((row) => String(Object.values(row)[0]));
    if (integrity.join() !== "ok") throw new BackupRestoreError(`${where}: PRAGMA integrity_check says ${integrity.slice(0, 3).join("; ")}`);
    const [migrations] = await connection.all("SELECT count(*) AS n FROM __drizzle_migrations");
    if (Number(migrations?.n) !== entry.schemaVersion) throw new BackupRestoreError(`${where}: holds ${String(migrations?.n)} migrations, the manifest lists ${entry.schemaVersion}`);
    const verdict =
      database === "control"
        ? await verifyAuditChain(new Database(connection, controlSchema).db, controlAuditLog)
        : await verifyAuditChain(new Database(connection, workspaceSchema).db, workspaceAuditLog);
    if (!verdict.ok) throw new BackupRestoreError(`${where}: its audit chain is broken at row ${verdict.firstBadSeq} (${verdict.reason})`);
  } finally {
    await connection.close();
  }
}

/** Where a restored database goes in a data dir, as lib/db/store.ts reads it. */
function dataDirFile(to: string, database: string): string {
  return database === "control" ? path.join(to, "control.db") : path.join(to, "workspaces", database, "workspace.db");
}

/**
 * Restores a whole set into `to`, an empty (or new) folder, as a complete data dir: control.db,
 * workspaces/<id>/workspace.db, and master.key (0600) so the server starts on it as it is.
 * A non-empty `to` is refused untouched; any failure later leaves `to` as it was (empty, or absent).
 */
export async function restoreBackup(options: { target: BackupTarget; backupId: string; identity: string; masterKey: Buffer; to: string }): Promise<RestoreResult> {
  const { target, backupId, masterKey, to } = options;
  const started = performance.now();
  const existed = fs.existsSync(to);
  if (existed && (!fs.statSync(to).isDirectory() || fs.readdirSync(to).length > 0)) {
    throw new BackupRestoreError(`${to} is not an empty folder: restore into a new or empty one (a restore never writes over a data dir)`);
  }
  // Checked before anything is written: a wrong identity file or a foreign backup leaves no trace.
  parseIdentityFile(options.identity);
  const manifest = await readVerifiedManifest(target, backupId, masterKey);
  const listed = new Set([MANIFEST_FILE, ...manifest.files.map((file) => file.path)]);
  const present = new Set(await target.files(backupId));
  const extra = [...present].filter((file) => !listed.has(file));
  const missing = [...listed].filter((file) => !present.has(file));
  if (extra.length > 0) throw new BackupRestoreError(`backup ${backupId} holds files its manifest does not list: ${extra.slice(0, 5).join(", ")}`);
  if (missing.length > 0) throw new BackupRestoreError(`backup ${backupId} is missing files its manifest lists: ${missing.slice(0, 5).join(", ")}`);

  ensurePrivateDir(to);
  try {
    let bytes = 0;
    for (const file of manifest.files) {
      const outFile = dataDirFile(to, file.database);
      ensurePrivateDir(path.dirname(outFile));
      await restoreDatabaseFile({ target, backupId, manifest, database: file.database, identity: options.identity, masterKey, outFile });
      bytes += file.plaintextBytes;
    }
    await fsp.writeFile(path.join(to, MASTER_KEY_FILE), masterKey.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    return { backupId, files: manifest.files.length, bytes, ms: Math.round(performance.now() - started), manifest };
  } catch (error) {
    await emptyOut(to, existed);
    throw error;
  }
}

/** Puts `to` back as the restore found it: removed if it made it, emptied if it was an empty folder. */
async function emptyOut(to: string, existed: boolean): Promise<void> {
  if (!existed) return fsp.rm(to, { recursive: true, force: true });
  for (const name of await fsp.readdir(to)) await fsp.rm(path.join(to, name), { recursive: true, force: true });
}
