import fs from "node:fs";
import path from "node:path";
import { and, desc, eq } from "drizzle-orm";
import { controlSchema } from "@/db/control/schema";
import { actorOf, OPERATOR } from "../access/principal";
import { appendAudit, controlAuditLog } from "../audit/audit";
import { auditSigner } from "../audit/checkpoint";
import { getConfig } from "../config";
import { randomId } from "../crypto/ids";
import { deriveControlKey, MASTER_KEY_FILE, MASTER_KEY_NEXT_FILE, masterKeyId, parseMasterKeyText } from "../crypto/keys";
import { Connection, WrongKeyError } from "../db/connection";
import { Database } from "../db/database";
import { fsyncDir, writeFileAtomic } from "../db/files";
import { closeStore, getStore } from "../db/store";
import { databaseFiles, fileKey, readJournal, removeJournal, RotationError, writeJournal, type RotationJournal } from "./rotation-journal";

/**
 * Master-key rotation: every database file re-keyed (PRAGMA rekey) from the keys derived from
 * the old master key to those derived from the new, crash-safe and resumable.
 *
 *   1. (fresh start) the store is opened once with the old key, which settles interrupted
 *      workspace creations and runs migrations; every file must open with the old key;
 *   2. the new key is staged as master.key.next (0600), then the journal is written: nothing
 *      is touched before both are on disk;
 *   3. each file, in its own step: opened with the new key first (a kill between its rekey and
 *      the journal's update leaves it done but not listed), else with the old key, checkpointed,
 *      switched to a rollback journal, re-keyed, switched back to WAL, and shown to open with
 *      the new key; then the journal lists it done;
 *   4. `key.rotate` is appended to control.db's chain (once: a retry finds it by rotation id);
 *   5. master.key.next is renamed over master.key, and the journal removed.
 *
 * SQLCipher 4 re-keys in WAL mode too, but the re-key runs in rollback-journal mode, whose
 * crash story is the plainer one (test/key-rotation.test.ts checks both modes, and kills a
 * rekey mid-way): a kill leaves a hot journal of old-key pages, which SQLite plays back byte
 * for byte at the next open, whichever key that open tries, so the file is wholly old-key
 * again and the step is redone. The caller holds the data dir's lease
 * (lib/db/lease.ts), so no server or second rotation has these files open.
 */
export type RotatedFile = { file: string; index: number; total: number; outcome: "rekeyed" | "already"; bytes: number; ms: number };

export type RotationResult = {
  rotationId: string;
  oldKeyId: string;
  newKeyId: string;
  oldAuditKeyId: string;
  newAuditKeyId: string;
  files: number;
  resumed: boolean;
};

type RotationOptions = { newKeyFile?: string; onFile?: (step: RotatedFile) => void };

const MASTER_KEY_MODE = 0o600;

/** `enclave key rotate`: starts a rotation to the key in `newKeyFile`, or finishes the one under way. */
export async function rotateMasterKey(options: RotationOptions): Promise<RotationResult> {
  const config = getConfig();
  if (config.ENCLAVE_MASTER_KEY) {
    throw new RotationError(
      "ENCLAVE_MASTER_KEY is set, and a rotation cannot change the environment a server starts with: write the current key to master.key (0600) in the data dir, unset ENCLAVE_MASTER_KEY, rotate, then put the new key where your secret store keeps it",
    );
  }
  const dataDir = config.dataDir;
  const journal = readJournal(dataDir);
  if (journal) return finish(dataDir, journal, resumeKeys(dataDir, journal, options.newKeyFile), options.onFile, true);
  if (options.newKeyFile === undefined) {
    const staged = fs.existsSync(path.join(dataDir, MASTER_KEY_NEXT_FILE)) ? ` (${MASTER_KEY_NEXT_FILE} is there, but without a journal no file was re-keyed with it)` : "";
    throw new RotationError(`no rotation is under way${staged}: give the new key with --new-key-file`);
  }
  const newKey = readNewKeyFile(options.newKeyFile);
  // A run killed after its last step (master.key renamed, journal removed) but before it exited
  // looks like any other to whoever runs it again: the same command then says it is done.
  const finished = readKeyFile(dataDir, MASTER_KEY_FILE)?.equals(newKey) ? await completedRotationTo(dataDir, newKey) : null;
  if (finished) return finished;
  const started = await start(dataDir, newKey);
  return finish(dataDir, started.journal, started.keys, options.onFile, false);
}

/**
 * At server start, before the store opens: a journal present means a rotation was cut short;
 * it is finished here (the server logs it) rather than serving over half-re-keyed files.
 * Null when there is none.
 */
export async function finishInterruptedRotation(onFile?: (step: RotatedFile) => void): Promise<RotationResult | null> {
  if (!readJournal(getConfig().dataDir)) return null;
  return rotateMasterKey({ onFile });
}

type Keys = { old: Buffer | null; next: Buffer };

/** The new key as the operator gave it: a regular file only its owner can read, of 64 hex characters. */
function readNewKeyFile(file: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new RotationError(`--new-key-file: ${file} does not exist or cannot be read`);
  }
  if (!stat.isFile()) throw new RotationError(`--new-key-file: ${file} is not a regular file`);
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new RotationError(`--new-key-file: ${file} is readable or writable by group or others (mode ${mode.toString(8)}); a master key must be 0600: chmod 600 ${file}`);
  }
  try {
    return parseMasterKeyText(fs.readFileSync(file, "utf8"), file);
  } catch (error) {
    throw new RotationError(`--new-key-file: ${(error as Error).message} (generate one with: openssl rand -hex 32)`);
  }
}

function readKeyFile(dataDir: string, name: string): Buffer | null {
  const file = path.join(dataDir, name);
  return fs.existsSync(file) ? parseMasterKeyText(fs.readFileSync(file, "utf8"), file) : null;
}

function stageKey(dataDir: string, key: Buffer): void {
  writeFileAtomic(path.join(dataDir, MASTER_KEY_NEXT_FILE), key.toString("hex") + "\n");
}

async function start(dataDir: string, newKey: Buffer): Promise<{ journal: RotationJournal; keys: Keys }> {
  const oldKey = readKeyFile(dataDir, MASTER_KEY_FILE);
  if (!oldKey) throw new RotationError(`${path.join(dataDir, MASTER_KEY_FILE)} does not exist: there is no key to rotate from`);
  if (oldKey.equals(newKey)) throw new RotationError(`--new-key-file holds the current master key (${masterKeyId(oldKey)}): a rotation needs a new one`);
  // Opening the store proves the old key, migrates, and settles interrupted workspace creations.
  await getStore().control;
  await closeStore();
  const files = databaseFiles(dataDir);
  for (const file of files) {
    if (!(await opensWith(path.join(dataDir, file), fileKey(oldKey, file)))) {
      throw new RotationError(`${file} does not open with the current master key: repair or restore it before rotating (nothing was changed)`);
    }
  }
  stageKey(dataDir, newKey);
  const journal: RotationJournal = {
    version: 1,
    rotationId: randomId("rot"),
    startedAt: new Date().toISOString(),
    oldKeyId: masterKeyId(oldKey),
    newKeyId: masterKeyId(newKey),
    oldAuditKeyId: auditSigner(oldKey).keyId,
    newAuditKeyId: auditSigner(newKey).keyId,
    files,
    done: [],
    audited: false,
  };
  writeJournal(dataDir, journal);
  return { journal, keys: { old: oldKey, next: newKey } };
}

/**
 * The keys of a rotation under way, from the data dir, checked against the journal's ids:
 * master.key is still the old key (and master.key.next the new), or, when a crash fell between
 * the final rename and the journal's removal, already the new one.
 */
function resumeKeys(dataDir: string, journal: RotationJournal, newKeyFile: string | undefined): Keys {
  const given = newKeyFile === undefined ? null : readNewKeyFile(newKeyFile);
  if (given && masterKeyId(given) !== journal.newKeyId) {
    throw new RotationError(
      `a rotation to key ${journal.newKeyId} is under way and --new-key-file holds ${masterKeyId(given)}: finish it first (run \`enclave key rotate\` without --new-key-file), then rotate again`,
    );
  }
  const current = readKeyFile(dataDir, MASTER_KEY_FILE);
  const currentId = current ? masterKeyId(current) : null;
  if (current && currentId === journal.newKeyId) return { old: null, next: current };
  if (!current || currentId !== journal.oldKeyId) {
    throw new RotationError(`${MASTER_KEY_FILE} is neither the old key (${journal.oldKeyId}) nor the new key (${journal.newKeyId}) of the rotation under way: put the old key back as ${MASTER_KEY_FILE}`);
  }
  let next = readKeyFile(dataDir, MASTER_KEY_NEXT_FILE);
  if ((!next || masterKeyId(next) !== journal.newKeyId) && given) {
    stageKey(dataDir, given);
    next = given;
  }
  if (!next || masterKeyId(next) !== journal.newKeyId) {
    throw new RotationError(`${MASTER_KEY_NEXT_FILE} is missing or is not the new key (${journal.newKeyId}): run \`enclave key rotate --new-key-file <the new key>\` to finish`);
  }
  return { old: current, next };
}

async function finish(dataDir: string, journal: RotationJournal, keys: Keys, onFile: RotationOptions["onFile"], resumed: boolean): Promise<RotationResult> {
  const done = new Set(journal.done);
  for (const [index, file] of journal.files.entries()) {
    if (done.has(file)) continue;
    const started = performance.now();
    const bytes = fileSize(path.join(dataDir, file));
    const outcome = await rekeyFile(dataDir, file, keys, journal);
    journal.done.push(file);
    writeJournal(dataDir, journal);
    onFile?.({ file, index: index + 1, total: journal.files.length, outcome, bytes, ms: performance.now() - started });
  }
  if (!journal.audited) {
    await auditRotation(dataDir, journal, keys.next);
    journal.audited = true;
    writeJournal(dataDir, journal);
  }
  if (keys.old) {
    fs.renameSync(path.join(dataDir, MASTER_KEY_NEXT_FILE), path.join(dataDir, MASTER_KEY_FILE));
    fs.chmodSync(path.join(dataDir, MASTER_KEY_FILE), MASTER_KEY_MODE);
    fsyncDir(dataDir);
  }
  removeJournal(dataDir);
  const { rotationId, oldKeyId, newKeyId, oldAuditKeyId, newAuditKeyId } = journal;
  return { rotationId, oldKeyId, newKeyId, oldAuditKeyId, newAuditKeyId, files: journal.files.length, resumed };
}

function fileSize(file: string): number {
  return ["", "-wal"].reduce((sum, suffix) => sum + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
}

async function opensWith(file: string, key: Buffer): Promise<boolean> {
  try {
    await (await Connection.open(file, key, { create: false })).close();
    return true;
  } catch (error) {
    if (error instanceof WrongKeyError) return false;
    throw error;
  }
}

async function rekeyFile(dataDir: string, file: string, keys: Keys, journal: RotationJournal): Promise<"rekeyed" | "already"> {
  const absolute = path.join(dataDir, file);
  const newKey = fileKey(keys.next, file);
  if (await opensWith(absolute, newKey)) return "already";
  const neither = `${file} opens with neither the old key (${journal.oldKeyId}) nor the new key (${journal.newKeyId}): restore it from a backup into place, then run \`enclave key rotate\` again`;
  if (!keys.old) throw new RotationError(neither);
  let connection: Connection;
  try {
    connection = await Connection.open(absolute, fileKey(keys.old, file), { create: false });
  } catch (error) {
    throw error instanceof WrongKeyError ? new RotationError(neither) : error;
  }
  try {
    // Into the main file first: pages left in the WAL would stay under the old key.
    const [checkpoint] = await connection.all("PRAGMA wal_checkpoint(TRUNCATE)");
    if (checkpoint?.busy !== 0) throw new RotationError(`${file} is in use by another process (its WAL could not be checkpointed): stop it and run \`enclave key rotate\` again`);
    await connection.all("PRAGMA journal_mode = DELETE");
    await connection.exec(`PRAGMA rekey = "x'${newKey.toString("hex")}'"`);
    await connection.all("PRAGMA journal_mode = WAL");
  } finally {
    await connection.close();
  }
  if (!(await opensWith(absolute, newKey))) throw new RotationError(`${file} was re-keyed but does not open with the new key`);
  return "rekeyed";
}

/** `key.rotate` in control.db's chain, under the new key, once per rotation. */
/** The rotation that made `key` the master key, from control.db's audit chain; null if none did (it was never rotated to). */
async function completedRotationTo(dataDir: string, key: Buffer): Promise<RotationResult | null> {
  const control = new Database(await Connection.open(path.join(dataDir, "control.db"), deriveControlKey(key), { create: false }), controlSchema);
  try {
    const [row] = await control.db
      .select({ target: controlAuditLog.target, details: controlAuditLog.details })
      .from(controlAuditLog)
      .where(eq(controlAuditLog.action, "key.rotate"))
      .orderBy(desc(controlAuditLog.seq))
      .limit(1);
    const details = row?.details ? (JSON.parse(row.details) as Record<string, unknown>) : null;
    if (!row?.target || details?.newKeyId !== masterKeyId(key)) return null;
    const text = (name: string) => String(details[name]);
    return { rotationId: row.target, oldKeyId: text("oldKeyId"), newKeyId: text("newKeyId"), oldAuditKeyId: text("oldAuditKeyId"), newAuditKeyId: text("newAuditKeyId"), files: Number(details.files), resumed: true };
  } finally {
    await control.close();
  }
}

async function auditRotation(dataDir: string, journal: RotationJournal, newKey: Buffer): Promise<void> {
  const control = new Database(await Connection.open(path.join(dataDir, "control.db"), deriveControlKey(newKey), { create: false }), controlSchema);
  try {
    await control.transaction(async (tx) => {
      const [already] = await tx
        .select({ seq: controlAuditLog.seq })
        .from(controlAuditLog)
        .where(and(eq(controlAuditLog.action, "key.rotate"), eq(controlAuditLog.target, journal.rotationId)));
      if (already) return;
      await appendAudit(tx, "control", {
        actor: actorOf(OPERATOR),
        action: "key.rotate",
        target: journal.rotationId,
        details: {
          oldKeyId: journal.oldKeyId,
          newKeyId: journal.newKeyId,
          oldAuditKeyId: journal.oldAuditKeyId,
          newAuditKeyId: journal.newAuditKeyId,
          files: journal.files.length,
          startedAt: journal.startedAt,
        },
      });
    });
  } finally {
    await control.close();
  }
}
