import fs from "node:fs";
import { getConfig } from "../config";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";

/**
 * The faults an operator meets on the storage itself, and the one place a driver error
 * becomes what a client is told:
 *
 * - **Full** (`SQLITE_FULL`, `ENOSPC`, or an I/O error while the disk is nearly full): the
 *   write answers 507 `storage_full`. SQLite has rolled the transaction back, so nothing
 *   acknowledged is lost and reads go on. One error line starts an episode; it ends for a
 *   database once an insert there commits (it found room; an update or delete in place
 *   proves nothing), or, when the disk was below the low-space threshold at the failure, once
 *   it is above it again (the operator freed space). A failure on a roomy disk was the
 *   database's own size limit (`max_page_count`): only a commit there ends it.
 * - **Damaged** (`SQLITE_CORRUPT`, `SQLITE_NOTADB`: SQLCipher's page HMAC failing shows as one
 *   of these on the page read, or on open): the workspace answers 503 `storage_damaged` from
 *   then on, without touching the file again, until the file is replaced (a restore swaps in a
 *   new file: another inode) or `clearDamaged` is called. One error line per workspace. Once a
 *   connection has met damage, SQLCipher answers later statements on it with other codes
 *   (SQLITE_NOMEM): those are the same damage.
 *
 * The state lives on globalThis: the custom server and Next's bundle each load this module, and
 * both must see one registry. It is per store: closing the store forgets it.
 */

/** Whose database a connection is: the store says, when it opens one. */
export type StorageOwner = { kind: "control" } | { kind: "workspace"; workspaceId: string };

export class StorageFullError extends HttpError {
  constructor() {
    super(507, "storage_full", "The server's disk is full; nothing was saved. The operator has been told.");
  }
}

export class StorageDamagedError extends HttpError {
  /** The workspace whose file is damaged, or null for control.db. Not part of the response. */
  readonly workspaceId: string | null;
  constructor(owner: StorageOwner) {
    super(
      503,
      "storage_damaged",
      owner.kind === "workspace" ? "This workspace's storage is damaged; the operator has been told." : "The server's storage is damaged; the operator has been told.",
    );
    this.workspaceId = owner.kind === "workspace" ? owner.workspaceId : null;
  }
}

export type DamagedFile = { workspaceId: string | null; since: number; reason: string };
export type DiskFull = { since: number; reason: string; databases: string[] };
export type StorageHealth = { damaged: DamagedFile[]; diskFull: DiskFull | null; freeBytes: number | null; lowSpaceBytes: number };

type DamagedEntry = DamagedFile & { file: string; identity: string | null };
/** `diskWasLow`: below the threshold at the failure (the disk, not a database limit). */
type FullEntry = { since: number; reason: string; diskWasLow: boolean };
type Registry = { damaged: Map<string, DamagedEntry>; full: Map<string, FullEntry>; dataDir: string | null };

const globalForHealth = globalThis as unknown as { enclaveStorageHealth?: Registry };
const registry = (): Registry => (globalForHealth.enclaveStorageHealth ??= { damaged: new Map(), full: new Map(), dataDir: null });

const CONTROL_KEY = "control";
/** A full disk met by a plain file write (no database to prove it fixed by a commit). */
const FILES_KEY = "files";
const keyOf = (owner: StorageOwner | undefined) => (owner === undefined ? FILES_KEY : owner.kind === "control" ? CONTROL_KEY : owner.workspaceId);

const DAMAGE_CODES = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The data dir the store serves, for measuring free space; set when a store opens. */
export function watchStorage(dataDir: string): void {
  const state = registry();
  state.dataDir = dataDir;
}

/** Forgets every fault (the store closed: tests, shutdown). */
export function resetStorageHealth(): void {
  globalForHealth.enclaveStorageHealth = undefined;
}

/**
 * What `error` means for a client. A storage fault comes back as the HttpError to answer with
 * (and is recorded); anything else comes back unchanged. `where` says whose database a driver
 * error came from (none for a plain file write); `file` is that database's path.
 */
export function storageFault(error: unknown, where?: { owner: StorageOwner; file: string; damagedBefore?: boolean }): unknown {
  // drizzle wraps what a connection throws ("Failed query: …", the fault as its cause): the fault is the answer.
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof HttpError) return cause;
  }
  const code = codeOf(error);
  if (where && (where.damagedBefore || (code !== undefined && DAMAGE_CODES.has(code)))) {
    markDamaged(where.owner, where.file, damageReason(code));
    return new StorageDamagedError(where.owner);
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC" || (code === "SQLITE_IOERR" && diskIsLow())) {
    markFull(where?.owner, String((error as Error)?.message ?? error));
    return new StorageFullError();
  }
  return error;
}

/** What the operator reads (status, log, `audit verify`): a sentence and the driver's code, not its raw error. */
function damageReason(code: string | undefined): string {
  if (code === "SQLITE_NOTADB") return "its pages do not decrypt: damaged, or written with another key (SQLITE_NOTADB)";
  if (code === "SQLITE_CORRUPT") return "a page fails its integrity check (SQLITE_CORRUPT)";
  return `it fails after earlier damage (${code ?? "unknown error"})`;
}

function markDamaged(owner: StorageOwner, file: string, reason: string): void {
  const key = keyOf(owner);
  const state = registry();
  if (state.damaged.has(key)) return;
  const workspaceId = owner.kind === "workspace" ? owner.workspaceId : null;
  state.damaged.set(key, { workspaceId, since: Date.now(), reason, file, identity: fileIdentity(file) });
  logger.error({ workspaceId, database: owner.kind, reason }, owner.kind === "workspace" ? "workspace storage damaged: it answers 503 until its file is restored" : "control.db damaged: restore it");
}

function markFull(owner: StorageOwner | undefined, reason: string): void {
  const state = registry();
  const key = keyOf(owner);
  if (state.full.has(key)) return;
  const freeBytes = measureFreeBytes();
  if (state.full.size === 0) logger.error({ database: key, reason, freeBytes }, "storage full: writes answer 507 until space is freed");
  state.full.set(key, { since: Date.now(), reason, diskWasLow: freeBytes === null || freeBytes < lowSpaceThreshold() });
}

/** A write committed on `owner`'s database: there was room, so its part of a full-disk episode is over. */
export function noteWriteCommitted(owner: StorageOwner): void {
  const state = registry();
  if (state.full.size === 0) return;
  const own = state.full.delete(keyOf(owner));
  // A commit grew a file on the same disk: a plain file write would fit again too.
  const files = state.full.delete(FILES_KEY);
  if (own || files) endEpisodeIfOver("a write committed");
}

function endEpisodeIfOver(why: string): void {
  if (registry().full.size === 0) logger.info({ why }, "storage full episode over: writes are accepted again");
}

/** Refuses a workspace already known to be damaged, unless its file has been replaced since (then it is served again). */
export function assertNotDamaged(workspaceId: string, file: string): void {
  const entry = registry().damaged.get(workspaceId);
  if (!entry) return;
  const identity = fileIdentity(file);
  if (identity !== null && identity !== entry.identity) {
    clearDamaged(workspaceId);
    return;
  }
  throw new StorageDamagedError({ kind: "workspace", workspaceId });
}

/** For a restore that put a good file in place: the workspace is served again (its next request opens the new file). */
export function clearDamaged(workspaceId: string): boolean {
  const cleared = registry().damaged.delete(workspaceId);
  if (cleared) logger.info({ workspaceId }, "workspace storage replaced: serving it again");
  return cleared;
}

/** Whether `workspaceId` is recorded as damaged (without checking for a replaced file). */
export function isDamaged(workspaceId: string): boolean {
  return registry().damaged.has(workspaceId);
}

/** What the operator status shows, and what /api/health summarises (without naming workspaces). */
export function storageHealth(): StorageHealth {
  const state = registry();
  const freeBytes = measureFreeBytes();
  const lowSpaceBytes = lowSpaceThreshold();
  // A failure met on a nearly full disk ends once the disk has room again. One met on a roomy
  // disk was the database's own limit: only a commit there ends it.
  if (freeBytes !== null && state.full.size > 0) {
    for (const [key, entry] of state.full) {
      if (freeBytes >= lowSpaceBytes && entry.diskWasLow) state.full.delete(key);
    }
    endEpisodeIfOver("space was freed");
  }
  const full = [...state.full.entries()].sort(([, a], [, b]) => a.since - b.since);
  const first = full[0]?.[1];
  return {
    damaged: [...state.damaged.values()].map(({ workspaceId, since, reason }) => ({ workspaceId, since, reason })),
    diskFull: first ? { since: first.since, reason: first.reason, databases: full.map(([key]) => key) } : null,
    freeBytes,
    lowSpaceBytes,
  };
}

export type HealthReason = { code: "storage_full" | "low_disk_space" | "storage_damaged"; message: string };

/**
 * Why /api/health says degraded, for anyone who asks: counts and kinds, never workspace ids
 * (a caller who cannot see a workspace must not learn it exists; the operator API names them).
 */
export function healthReasons(health: StorageHealth = storageHealth()): HealthReason[] {
  const reasons: HealthReason[] = [];
  if (health.diskFull) reasons.push({ code: "storage_full", message: `A write found no space at ${new Date(health.diskFull.since).toISOString()}; writes answer 507 until space is freed.` });
  if (health.freeBytes !== null && health.freeBytes < health.lowSpaceBytes) {
    reasons.push({ code: "low_disk_space", message: `${Math.floor(health.freeBytes / 1024 / 1024)} MB free on the data disk (threshold ${Math.floor(health.lowSpaceBytes / 1024 / 1024)} MB).` });
  }
  if (health.damaged.length > 0) {
    const control = health.damaged.some((entry) => entry.workspaceId === null);
    const workspaces = health.damaged.filter((entry) => entry.workspaceId !== null).length;
    const parts = [control ? "control.db" : null, workspaces > 0 ? `${workspaces} workspace file${workspaces === 1 ? "" : "s"}` : null].filter(Boolean);
    reasons.push({ code: "storage_damaged", message: `${parts.join(" and ")} damaged; ${control ? "the server" : "those workspaces"} answer 503 until restored.` });
  }
  return reasons;
}

function lowSpaceThreshold(): number {
  return getConfig().ENCLAVE_LOW_DISK_MB * 1024 * 1024;
}

function measureFreeBytes(): number | null {
  const dataDir = registry().dataDir;
  if (dataDir === null) return null;
  try {
    const stats = fs.statfsSync(dataDir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

function diskIsLow(): boolean {
  const free = measureFreeBytes();
  return free !== null && free < lowSpaceThreshold();
}

/** Which file is at `file` now: a restore renames a new file into place, so the inode changes. */
function fileIdentity(file: string): string | null {
  try {
    const stats = fs.statSync(file);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return null;
  }
}
