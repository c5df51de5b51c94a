import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import packageJson from "@/package.json";
import { auditControl } from "../audit/audit";
import { auditSigner } from "../audit/checkpoint";
import { getConfig } from "../config";
import { deriveControlKey, deriveWorkspaceKey } from "../crypto/keys";
import { Connection } from "../db/connection";
import { getStore } from "../db/store";
import { logger } from "../log/logger";
import { ageEncrypt, tally } from "./age-stream";
import { BACKUP_FORMAT, backupFilePath, MANIFEST_FILE, signManifest, type BackupFile, type Manifest } from "./manifest";
import { snapshotDatabase, withPrivateTempDir } from "./snapshot";
import type { BackupTarget } from "./target";
import { configuredTarget } from "./targets";

/**
 * One backup run: control.db, then every workspace its snapshot lists (deleted ones still held
 * included; purged ones have no row), each snapshotted (snapshot.ts), streamed through age to
 * the recipients, and written to the target; then the signed manifest, LAST, so a set without
 * one is visibly incomplete. Workspaces come from the control snapshot, so the set is
 * consistent with its control.db: a workspace created after it is in the next backup, and one
 * purged during the run is skipped (its row, in the snapshot, is a deleted workspace whose
 * purge the restored instance finishes). Nothing written holds the master key or a derived key.
 */
export type BackupProgress = {
  backupId: string;
  /** `control` or a workspace id. */
  database: string;
  /** 1-based position of this file, and how many the run has (files skipped still count). */
  index: number;
  total: number;
  /** Plaintext bytes encrypted so far, of `size`. */
  bytes: number;
  size: number;
  /** Since this file's snapshot began. */
  ms: number;
  done: boolean;
};

export type BackupResult = { backupId: string; files: number; bytes: number; skipped: number; ms: number };

type ProgressListener = (progress: BackupProgress) => void;
const listeners = new Set<ProgressListener>();

/**
 * Progress of every run in this process, for the CLI (which starts the run through the jobs
 * runner, so it cannot hand runBackup a callback itself). Returns the unsubscribe.
 */
export function onBackupProgress(listener: ProgressListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * No recipients configured: there is nothing to encrypt to. The backup job turns it into the
 * runner's JobNotConfiguredError (a run recorded `skipped`), which lib/backup cannot import
 * without a cycle between lib/jobs and lib/backup.
 */
export class BackupNotConfiguredError extends Error {
  override name = "BackupNotConfiguredError";
}

const BACKUP_ACTOR = { type: "system", id: "backup" } as const;
const PROGRESS_EVERY_MS = 250;

/** `20261202T053000Z-1a2b3c`: the moment, then randomness so two runs in one second do not collide. */
export function newBackupId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export async function runBackup(options: { now: number; target?: BackupTarget; onProgress?: ProgressListener }): Promise<BackupResult> {
  const config = getConfig();
  const recipients = config.ENCLAVE_BACKUP_RECIPIENTS;
  if (recipients.length === 0) throw new BackupNotConfiguredError("no backup recipients: set ENCLAVE_BACKUP_RECIPIENTS to the age1… public key(s) backups are encrypted to");
  const target = options.target ?? configuredTarget(config);
  const store = getStore();
  await store.control;
  const started = performance.now();
  const backupId = newBackupId(options.now);
  const emit = (progress: BackupProgress) => {
    options.onProgress?.(progress);
    for (const listener of listeners) listener(progress);
  };

  const files: BackupFile[] = [];
  let skipped = 0;
  await withPrivateTempDir("enclave-backup-", async (tmp) => {
    const controlSnapshot = path.join(tmp, "control.db");
    const createdAt = Date.now();
    const controlKey = deriveControlKey(store.masterKey);
    const control = await snapshotDatabase(path.join(store.dataDir, "control.db"), controlKey, controlSnapshot);
    const workspaceIds = await workspacesIn(controlSnapshot, controlKey);
    const total = 1 + workspaceIds.length;
    const put = (database: string, index: number, snapshot: string, schemaVersion: number, fileStarted: number) =>
      encryptAndWrite({ target, backupId, database, snapshot, schemaVersion, recipients, index, total, started: fileStarted, emit });

    files.push(await put("control", 1, controlSnapshot, control.schemaVersion, performance.now()));
    fs.rmSync(controlSnapshot);

    for (const [position, workspaceId] of workspaceIds.entries()) {
      const fileStarted = performance.now();
      const source = store.workspaceFile(workspaceId);
      const snapshot = path.join(tmp, `${workspaceId}.db`);
      const taken = await snapshotWorkspace(source, deriveWorkspaceKey(store.masterKey, workspaceId), snapshot);
      if (!taken) {
        skipped += 1;
        logger.info({ backupId, workspaceId }, "backup skipped a workspace purged during the run");
        continue;
      }
      try {
        files.push(await put(workspaceId, position + 2, snapshot, taken.schemaVersion, fileStarted));
      } finally {
        fs.rmSync(snapshot, { force: true });
      }
    }

    const signer = auditSigner(store.masterKey);
    const manifest: Manifest = { format: BACKUP_FORMAT, backupId, createdAt, enclaveVersion: packageJson.version, keyId: signer.keyId, recipients: [...recipients], files };
    await target.write(backupId, MANIFEST_FILE, Readable.from([Buffer.from(signManifest(signer, manifest), "utf8")]));
  });

  const result: BackupResult = { backupId, files: files.length, bytes: files.reduce((sum, file) => sum + file.ciphertextBytes, 0), skipped, ms: Math.round(performance.now() - started) };
  await auditControl({ actor: BACKUP_ACTOR, action: "backup.run", target: backupId, details: { files: result.files, bytes: result.bytes, skipped, ms: result.ms, target: target.description } });
  return result;
}

/** The workspaces a control snapshot lists: every row, since a purged workspace has none. */
async function workspacesIn(controlSnapshot: string, controlKey: Buffer): Promise<string[]> {
  const connection = await Connection.open(controlSnapshot, controlKey, { create: false });
  try {
    const rows = await connection.all("SELECT id FROM workspaces ORDER BY id");
    return rows.map((row) => String(row.id));
  } finally {
    await connection.close();
  }
}

/** A workspace's snapshot, or null when its file is gone (purged since the control snapshot) before or while it was taken. */
async function snapshotWorkspace(source: string, key: Buffer, snapshot: string): Promise<{ schemaVersion: number } | null> {
  if (!fs.existsSync(source)) return null;
  try {
    const taken = await snapshotDatabase(source, key, snapshot);
    // A purge that removed the file while the snapshot read it: what was read belongs to no live workspace.
    if (fs.existsSync(source)) return taken;
    fs.rmSync(snapshot, { force: true });
    return null;
  } catch (error) {
    if (!fs.existsSync(source)) return null;
    throw error;
  }
}

async function encryptAndWrite(step: {
  target: BackupTarget;
  backupId: string;
  database: string;
  snapshot: string;
  schemaVersion: number;
  recipients: readonly string[];
  index: number;
  total: number;
  started: number;
  emit: ProgressListener;
}): Promise<BackupFile> {
  const { backupId, database, index, total, started, emit } = step;
  const size = fs.statSync(step.snapshot).size;
  let lastEmitted = 0;
  const report = (bytes: number, done: boolean) => emit({ backupId, database, index, total, bytes, size, ms: Math.round(performance.now() - started), done });
  const plaintext = tally(fs.createReadStream(step.snapshot, { highWaterMark: 1 << 20 }), (bytes) => {
    if (performance.now() - lastEmitted < PROGRESS_EVERY_MS) return;
    lastEmitted = performance.now();
    report(bytes, false);
  });
  const ciphertext = tally(await ageEncrypt(plaintext.stream, step.recipients));
  const file = backupFilePath(database);
  await step.target.write(backupId, file, ciphertext.stream);
  const plain = plaintext.figures();
  const cipher = ciphertext.figures();
  report(plain.bytes, true);
  return {
    path: file,
    database,
    schemaVersion: step.schemaVersion,
    plaintextBytes: plain.bytes,
    plaintextSha256: plain.sha256,
    ciphertextBytes: cipher.bytes,
    ciphertextSha256: cipher.sha256,
  };
}
