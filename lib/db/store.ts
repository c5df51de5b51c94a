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

type WorkspaceEntry = {
  db: Promise<WorkspaceDb>;
  users: number;
  evicted: boolean;
  /** Set once the handle is being closed (its last user gone after eviction). */
  closed?: Promise<void>;
  /** Called when `closed` is set, for a drop waiting on a handle still in use. */
  onClosing?: () => void;
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

  private workspaceDir(workspaceId: string, pending = false): string {
    // The id names a folder, so nothing but our own id format may reach path.join.
    if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw new Error("invalid workspace id");
    return path.join(this.dataDir, "workspaces", pending ? `${workspaceId}${PENDING_SUFFIX}` : workspaceId);
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
    const pending = this.workspaceDir(workspaceId, true);
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

  /** After a crash mid-creation: a pending file whose control row committed is moved into place; any other is removed. */
  private async settlePendingWorkspaces(control: ControlDb): Promise<void> {
    const root = path.join(this.dataDir, "workspaces");
    if (!fs.existsSync(root)) return;
    for (const name of fs.readdirSync(root)) {
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

  /**
   * Runs `fn` with the workspace's handle, opening it if needed. A workspace whose file was
   * found damaged is refused (503) without reading it again, and its handle leaves the cache,
   * until its file is replaced (storage-health.ts).
   */
  async withWorkspace<T>(workspaceId: string, fn: (db: WorkspaceDb) => Promise<T>): Promise<T> {
    if (this.dropping.has(workspaceId)) throw new WorkspaceDroppedError(workspaceId);
    assertNotDamaged(workspaceId, this.workspaceFile(workspaceId));
    let entry = this.workspaces.get(workspaceId) ?? this.revive(workspaceId);
    if (!entry) {
      const opening: WorkspaceEntry = { db: this.openWorkspaceAt(this.workspaceFile(workspaceId), workspaceId, false), users: 0, evicted: false };
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
      const entries = [this.workspaces.peek(workspaceId), this.draining.get(workspaceId)].filter((entry) => entry !== undefined);
      // Eviction closes an idle handle now and marks one in use to close after its last user.
      this.workspaces.delete(workspaceId);
      this.draining.delete(workspaceId);
      for (const entry of entries) {
        entry.evicted = true;
        if (!entry.closed && entry.users === 0) this.closeLater(entry);
        await (entry.closed ?? new Promise<void>((resolve) => (entry.onClosing = resolve)));
        await entry.closed;
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(this.workspaceDir(workspaceId, true), { recursive: true, force: true });
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

/** Closes every handle and forgets the store (tests, shutdown). */
export async function closeStore(): Promise<void> {
  const store = globalForStore.enclaveStore;
  globalForStore.enclaveStore = undefined;
  // Faults are of that store's files: the next store (another data dir, a restart) starts clean.
  resetStorageHealth();
  await store?.close();
}

