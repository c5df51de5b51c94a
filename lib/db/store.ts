import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { controlSchema, workspaces, type ControlSchema } from "@/db/control/schema";
import { workspaceSchema, type WorkspaceSchema } from "@/db/workspace/schema";
import { getConfig } from "../config";
import { deriveControlKey, deriveWorkspaceKey, loadMasterKey, MasterKeyError } from "../crypto/keys";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";
import { Connection, WrongKeyError } from "./connection";
import { Database } from "./database";
import { enforceDataDirModes, ensurePrivateDir } from "./files";
import { assertNotDamaged, resetStorageHealth, StorageDamagedError, storageFault, watchStorage } from "./storage-health";

export type ControlDb = Database<ControlSchema>;
export type WorkspaceDb = Database<WorkspaceSchema>;
/** What a control.db transaction hands its callback. */
export type ControlTx = Parameters<Parameters<ControlDb["transaction"]>[0]>[0];

// Migrations are read at run time from the project root (the server, the CLI and the tests
// all run from there), so neither the Next build nor a bundler has to carry them.
const MIGRATIONS = {
  control: path.join(process.cwd(), "db/control/migrations"),
  workspace: path.join(process.cwd(), "db/workspace/migrations"),
};

/** A workspace folder being created is named `<id>.pending` until its control row commits. */
const PENDING_SUFFIX = ".pending";
/**
 * A restore of one workspace (lib/backup/swap.ts) stages the restored file in `<id>.restore`,
 * then renames the live folder to `<id>.replaced` and the staged one into its place.
 */
const RESTORE_SUFFIX = ".restore";
const REPLACED_SUFFIX = ".replaced";
type FolderKind = "live" | "pending" | "restore" | "replaced";
const FOLDER_SUFFIX: Record<FolderKind, string> = { live: "", pending: PENDING_SUFFIX, restore: RESTORE_SUFFIX, replaced: REPLACED_SUFFIX };

type WorkspaceEntry = {
  db: Promise<WorkspaceDb>;
  users: number;
  evicted: boolean;
  /** Set once the handle is being closed (its last user gone after eviction). */
  closed?: Promise<void>;
  /** Called when `closed` is set, for a drop waiting on a handle still in use. */
  onClosing?: () => void;
  /**
   * The inode of workspace.db, taken just before the handle opened. Another process (the
   * CLI's restore) may replace the folder: a cached handle whose file no longer has this inode
   * is left to its current users and a new one opened on the new file (see replacedUnder).
   */
  inode: number | null;
};

/**
 * A workspace whose file is being dropped (purged): no request may open it again. authorize()
 * already answers 404 for a workspace that is due for purge; one racing past it gets the same.
 */
export class WorkspaceDroppedError extends HttpError {
  constructor(workspaceId: string) {
    super(404, "not_found", "No such workspace.");
    this.cause = `workspace ${workspaceId} is being purged`;
  }
}

class Store {
  readonly masterKey: Buffer;
  readonly control: Promise<ControlDb>;
  private readonly workspaces: LRUCache<string, WorkspaceEntry>;
  /** Evicted handles still in use: the next request joins one rather than opening a second connection to its file. */
  private readonly draining = new Map<string, WorkspaceEntry>();
  /** Closes under way, so `close()` can wait for every file to be checkpointed and released. */
  private readonly closing = new Set<Promise<void>>();
  /** Workspaces whose files dropWorkspaceFile is removing. */
  private readonly dropping = new Set<string>();
  /** Snapshot connections of long reads still running: closed with the store (their reads then fail), not waited for. */
  private readonly snapshots = new Set<WorkspaceDb>();

  constructor(readonly dataDir: string, masterKeyFromEnv: Buffer | undefined, cacheSize: number) {
    ensurePrivateDir(path.join(dataDir, "workspaces"));
    enforceDataDirModes(dataDir);
    this.masterKey = loadMasterKey(dataDir, masterKeyFromEnv);
    watchStorage(dataDir);
    this.control = this.openControl().then(async (control) => {
      await this.settlePendingWorkspaces(control);
      return control;
    });
    this.workspaces = new LRUCache({
      max: cacheSize,
      // Closing waits for the handle's last user: an evicted handle may still be mid-request.
      dispose: (entry, workspaceId) => {
        entry.evicted = true;
        if (entry.users === 0) this.closeLater(entry);
        else this.draining.set(workspaceId, entry);
      },
    });
  }

  private async openControl(): Promise<ControlDb> {
    try {
      const connection = await Connection.open(path.join(this.dataDir, "control.db"), deriveControlKey(this.masterKey), {
        create: true,
        owner: { kind: "control" },
      });
      const db = new Database(connection, controlSchema);
      await db.migrate(MIGRATIONS.control);
      return db;
    } catch (error) {
      if (error instanceof WrongKeyError) {
        throw new MasterKeyError(`the master key does not decrypt ${path.join(this.dataDir, "control.db")}: wrong ENCLAVE_MASTER_KEY or master.key`);
      }
      throw error;
    }
  }

  private workspaceDir(workspaceId: string, kind: FolderKind = "live"): string {
    // The id names a folder, so nothing but our own id format may reach path.join.
    if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw new Error("invalid workspace id");
    return path.join(this.dataDir, "workspaces", `${workspaceId}${FOLDER_SUFFIX[kind]}`);
  }

  workspaceFile(workspaceId: string): string {
    return path.join(this.workspaceDir(workspaceId), "workspace.db");
  }

  private async openWorkspaceAt(file: string, workspaceId: string, create: boolean): Promise<WorkspaceDb> {
    const connection = await Connection.open(file, deriveWorkspaceKey(this.masterKey, workspaceId), { create, owner: { kind: "workspace", workspaceId } });
    const db = new Database(connection, workspaceSchema);
    try {
      await db.migrate(MIGRATIONS.workspace);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    return db;
  }

  /**
   * A new workspace file that exists only if `commit` (the control rows naming it) succeeds:
   * it is made and filled (`init`) under a pending name, `commit` runs, and only then is it
   * renamed into place; a failed commit removes it. A crash in between leaves a pending
   * folder, which the next start settles by the control rows (see settlePendingWorkspaces).
   */
  async createWorkspaceFile(
    workspaceId: string,
    steps: { init?: (db: WorkspaceDb) => Promise<void>; commit?: () => Promise<void> } = {},
  ): Promise<void> {
    const pending = this.workspaceDir(workspaceId, "pending");
    const final = this.workspaceDir(workspaceId);
    // Pending folders left by a crash are settled once control.db is open: not this one.
    await this.control;
    if (fs.existsSync(final)) throw new Error(`workspace ${workspaceId} already exists`);
    try {
      ensurePrivateDir(pending);
      const db = await this.openWorkspaceAt(path.join(pending, "workspace.db"), workspaceId, true);
      try {
        await steps.init?.(db);
      } finally {
        await db.close();
      }
      await steps.commit?.();
    } catch (error) {
      fs.rmSync(pending, { recursive: true, force: true });
      throw error;
    }
    fs.renameSync(pending, final);
  }

  /**
   * After a crash mid-creation: a pending file whose control row committed is moved into place;
   * any other is removed. After a crash mid-restore (swapWorkspaceFolder): the restored file is
   * live only if both renames happened; otherwise the old folder goes back and the staged one is
   * dropped — the workspace stays offline until `enclave backup restore --workspace` is run again.
   */
  private async settlePendingWorkspaces(control: ControlDb): Promise<void> {
    const root = path.join(this.dataDir, "workspaces");
    if (!fs.existsSync(root)) return;
    for (const name of fs.readdirSync(root)) {
      if (name.endsWith(RESTORE_SUFFIX) || name.endsWith(REPLACED_SUFFIX)) {
        this.settleInterruptedRestore(root, name);
        continue;
      }
      const workspaceId = name.endsWith(PENDING_SUFFIX) ? name.slice(0, -PENDING_SUFFIX.length) : null;
      if (!workspaceId || !WORKSPACE_ID_PATTERN.test(workspaceId)) continue;
      const [row] = await control.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId));
      if (row && !fs.existsSync(this.workspaceDir(workspaceId))) {
        fs.renameSync(path.join(root, name), this.workspaceDir(workspaceId));
        logger.warn({ workspaceId }, "completed a workspace creation interrupted by a crash");
      } else {
        fs.rmSync(path.join(root, name), { recursive: true, force: true });
        logger.warn({ workspaceId }, "removed the file of a workspace whose creation never committed");
      }
    }
  }

  private settleInterruptedRestore(root: string, name: string): void {
    const replaced = name.endsWith(REPLACED_SUFFIX);
    const workspaceId = name.slice(0, -(replaced ? REPLACED_SUFFIX : RESTORE_SUFFIX).length);
    if (!WORKSPACE_ID_PATTERN.test(workspaceId) || !fs.existsSync(path.join(root, name))) return;
    const live = this.workspaceDir(workspaceId);
    if (replaced && !fs.existsSync(live)) {
      // Crashed between the two renames: the old file is the only complete one in place.
      fs.renameSync(path.join(root, name), live);
      logger.warn({ workspaceId }, "put back a workspace file whose restore was interrupted; run the restore again");
    } else {
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
      logger.warn({ workspaceId, folder: name }, replaced ? "removed the replaced file of a finished restore" : "removed the staged file of an interrupted restore");
    }
  }

  /**
   * Where a restore stages a workspace's file before swapWorkspaceFolder puts it in place; its
   * folder exists afterwards, emptied first when `fresh` (a file left by an interrupted run, and
   * its -wal, must not pair with the one staged next).
   */
  stagingFileFor(workspaceId: string, fresh: boolean): string {
    const dir = this.workspaceDir(workspaceId, "restore");
    if (fresh) fs.rmSync(dir, { recursive: true, force: true });
    ensurePrivateDir(dir);
    return path.join(dir, "workspace.db");
  }

  /**
   * Puts the staged folder (stagingFileFor) in place of the live one, by two renames within
   * workspaces/: the live folder — workspace.db with its own -wal and -shm — becomes
   * `<id>.replaced`, the staged one (a lone checkpointed workspace.db) becomes `<id>`, and the
   * replaced one is removed. A handle still open on the old file keeps its own descriptors to
   * the old db and WAL, so no connection ever pairs the new file with the old WAL; every
   * process notices the new inode on its next use (replacedUnder). This process's own handle
   * is closed first, as a drop does.
   */
  async swapWorkspaceFolder(workspaceId: string): Promise<void> {
    const staged = this.workspaceDir(workspaceId, "restore");
    if (!fs.existsSync(path.join(staged, "workspace.db"))) throw new Error(`nothing staged in ${staged}`);
    await this.releaseHandles(workspaceId);
    const live = this.workspaceDir(workspaceId);
    const replaced = this.workspaceDir(workspaceId, "replaced");
    fs.rmSync(replaced, { recursive: true, force: true });
    if (fs.existsSync(live)) fs.renameSync(live, replaced);
    fs.renameSync(staged, live);
    fs.rmSync(replaced, { recursive: true, force: true });
  }

  /**
   * Runs `fn` with the workspace's handle, opening it if needed. A workspace whose file was
   * found damaged is refused (503) without reading it again, and its handle leaves the cache,
   * until its file is replaced (storage-health.ts).
   */
  async withWorkspace<T>(workspaceId: string, fn: (db: WorkspaceDb) => Promise<T>): Promise<T> {
    if (this.dropping.has(workspaceId)) throw new WorkspaceDroppedError(workspaceId);
    assertNotDamaged(workspaceId, this.workspaceFile(workspaceId));
    let entry = this.workspaces.get(workspaceId) ?? this.revive(workspaceId);
    if (entry && this.replacedUnder(entry, workspaceId)) {
      this.forget(workspaceId);
      entry = undefined;
    }
    if (!entry) {
      const file = this.workspaceFile(workspaceId);
      // Before the open, not after: a swap in between makes the next use reopen, never keep a stale handle.
      const inode = inodeOf(file);
      const opening: WorkspaceEntry = { db: this.openWorkspaceAt(file, workspaceId, false), users: 0, evicted: false, inode };
      this.workspaces.set(workspaceId, opening);
      opening.db.catch(() => {
        if (this.workspaces.get(workspaceId) === opening) this.workspaces.delete(workspaceId);
        if (this.draining.get(workspaceId) === opening) this.draining.delete(workspaceId);
      });
      entry = opening;
    }
    entry.users += 1;
    try {
      return await fn(await entry.db);
    } catch (error) {
      // Closed after its last user: the next request is refused by the registry, and a restored file gets a fresh handle.
      const fault = storageFault(error);
      if (fault instanceof StorageDamagedError && fault.workspaceId === workspaceId && this.workspaces.peek(workspaceId) === entry) this.workspaces.delete(workspaceId);
      throw error;
    } finally {
      entry.users -= 1;
      if (entry.evicted && entry.users === 0) {
        if (this.draining.get(workspaceId) === entry) this.draining.delete(workspaceId);
        this.closeLater(entry);
      }
    }
  }

  /**
   * Runs `fn` inside one read transaction on a connection of its own: a consistent snapshot
   * for a long read (an export) that neither holds the shared handle (whose writers would
   * wait for it) nor sees their commits half-way. In WAL mode a reader and the writer do not
   * block each other; this connection never writes, so it never waits on the write lock.
   */
  async readSnapshot<T>(workspaceId: string, fn: (db: WorkspaceDb) => Promise<T>): Promise<T> {
    // Through the shared handle first: the file exists and is migrated, or this fails as any read would.
    await this.withWorkspace(workspaceId, () => Promise.resolve());
    const connection = await Connection.open(this.workspaceFile(workspaceId), deriveWorkspaceKey(this.masterKey, workspaceId), {
      create: false,
      owner: { kind: "workspace", workspaceId },
    });
    const db = new Database(connection, workspaceSchema);
    this.snapshots.add(db);
    try {
      await connection.exec("BEGIN");
      return await fn(db);
    } finally {
      this.snapshots.delete(db);
      await connection.exec("ROLLBACK").catch(() => undefined);
      await db.close();
    }
  }

  /**
   * Whether the file under a cached handle was replaced (by a restore in another process). One
   * stat per use — a few microseconds, see lib/backup/swap.test.ts. The new file always has a
   * new inode: the old one cannot be reused while this handle still holds it open.
   */
  private replacedUnder(entry: WorkspaceEntry, workspaceId: string): boolean {
    return entry.inode !== inodeOf(this.workspaceFile(workspaceId));
  }

  /** Takes a handle out of the cache for good: its current users finish on it, then it closes. */
  private forget(workspaceId: string): void {
    this.workspaces.delete(workspaceId);
    this.draining.delete(workspaceId);
  }

  /** Takes the workspace's handles out of the cache and waits until they are closed (their last users gone). */
  private async releaseHandles(workspaceId: string): Promise<void> {
    const entries = [this.workspaces.peek(workspaceId), this.draining.get(workspaceId)].filter((entry) => entry !== undefined);
    // Eviction closes an idle handle now and marks one in use to close after its last user.
    this.forget(workspaceId);
    for (const entry of entries) {
      entry.evicted = true;
      if (!entry.closed && entry.users === 0) this.closeLater(entry);
      await (entry.closed ?? new Promise<void>((resolve) => (entry.onClosing = resolve)));
      await entry.closed;
    }
  }

  // Two connections to one file would each wait on the other's write lock in SQLite's busy
  // handler, which sleeps on the libuv thread pool: with a few of them the pool starves and
  // every query in the process stalls until busy_timeout, then fails with SQLITE_BUSY.
  private revive(workspaceId: string): WorkspaceEntry | undefined {
    const entry = this.draining.get(workspaceId);
    if (!entry) return undefined;
    this.draining.delete(workspaceId);
    entry.evicted = false;
    this.workspaces.set(workspaceId, entry);
    return entry;
  }

  private closeLater(entry: WorkspaceEntry): void {
    const closing = closeEntry(entry).finally(() => this.closing.delete(closing));
    this.closing.add(closing);
    entry.closed = closing;
    entry.onClosing?.();
  }

  /**
   * Removes a workspace's file for good (the purge of a deleted workspace): its handle leaves
   * the cache (and the draining map) so no request joins it, the drop waits for requests still
   * using it, closes it, and only then removes workspace.db, its -wal and -shm and the folder.
   * Requests arriving meanwhile are refused (WorkspaceDroppedError) rather than reopening it.
   * Idempotent: a folder already gone (a drop interrupted by a crash) is not an error.
   */
  async dropWorkspaceFile(workspaceId: string): Promise<void> {
    const dir = this.workspaceDir(workspaceId);
    this.dropping.add(workspaceId);
    try {
      await this.releaseHandles(workspaceId);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(this.workspaceDir(workspaceId, "pending"), { recursive: true, force: true });
    } finally {
      this.dropping.delete(workspaceId);
    }
  }

  get openWorkspaceCount(): number {
    return this.workspaces.size;
  }

  async close(): Promise<void> {
    this.workspaces.clear();
    // An export whose reader never reads would hold its snapshot for ever: cut it off.
    await Promise.all([...this.snapshots].map((db) => db.close().catch(() => undefined)));
    // Handles still in use close when their last user finishes; the rest are closing now.
    await Promise.all(this.closing);
    // A store whose control.db never opened (wrong key) has nothing to close.
    const control = await this.control.catch(() => undefined);
    await control?.close();
  }
}

/** The file's inode, or null when it is not there (mid-swap, or never created). */
function inodeOf(file: string): number | null {
  return fs.statSync(file, { throwIfNoEntry: false })?.ino ?? null;
}

async function closeEntry(entry: WorkspaceEntry): Promise<void> {
  try {
    await (await entry.db).close();
  } catch (error) {
    logger.debug({ err: error }, "workspace handle close failed");
  }
}

// One store per process, kept on globalThis: the custom server and Next's bundle each load
// their own copy of this module, and both must share the same handles and locks.
const globalForStore = globalThis as unknown as { enclaveStore?: Store };

export function getStore(): Store {
  if (!globalForStore.enclaveStore) {
    const config = getConfig();
    globalForStore.enclaveStore = new Store(config.dataDir, config.ENCLAVE_MASTER_KEY, config.ENCLAVE_WORKSPACE_CACHE_SIZE);
  }
  return globalForStore.enclaveStore;
}

export function getControlDb(): Promise<ControlDb> {
  return getStore().control;
}

export function withWorkspace<T>(workspaceId: string, fn: (db: WorkspaceDb) => Promise<T>): Promise<T> {
  return getStore().withWorkspace(workspaceId, fn);
}

/** The 503 a workspace known to be damaged answers, thrown before a response starts (an event stream's 200 would come first). */
export function assertWorkspaceStorage(workspaceId: string): void {
  assertNotDamaged(workspaceId, getStore().workspaceFile(workspaceId));
}

export function readWorkspaceSnapshot<T>(workspaceId: string, fn: (db: WorkspaceDb) => Promise<T>): Promise<T> {
  return getStore().readSnapshot(workspaceId, fn);
}

export function createWorkspaceFile(workspaceId: string, steps?: Parameters<Store["createWorkspaceFile"]>[1]): Promise<void> {
  return getStore().createWorkspaceFile(workspaceId, steps);
}

export function dropWorkspaceFile(workspaceId: string): Promise<void> {
  return getStore().dropWorkspaceFile(workspaceId);
}

export function workspaceStagingFile(workspaceId: string, options: { fresh: boolean }): string {
  return getStore().stagingFileFor(workspaceId, options.fresh);
}

export function swapWorkspaceFolder(workspaceId: string): Promise<void> {
  return getStore().swapWorkspaceFolder(workspaceId);
}

/** Closes every handle and forgets the store (tests, shutdown). */
export async function closeStore(): Promise<void> {
  const store = globalForStore.enclaveStore;
  globalForStore.enclaveStore = undefined;
  // Faults are of that store's files: the next store (another data dir, a restart) starts clean.
  resetStorageHealth();
  await store?.close();
}

