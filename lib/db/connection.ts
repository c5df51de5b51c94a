import fs from "node:fs";
import sqlite3 from "@journeyapps/sqlcipher";
import { noteWriteCommitted, storageFault, StorageDamagedError, type StorageOwner } from "./storage-health";

/**
 * One SQLCipher connection with a promise API and a FIFO lock.
 *
 * drizzle's sqlite-proxy sends BEGIN/COMMIT as ordinary statements over a shared connection,
 * so two requests could land inside each other's transaction. Every statement therefore takes
 * the lock, and a transaction holds it from BEGIN to COMMIT (see `Database.transaction`).
 */
export type Row = Record<string, unknown>;

export class WrongKeyError extends Error {
  override name = "WrongKeyError";
}

/** A statement that adds rows: committed, it proves there was room (an update or delete in place need not). */
const WRITE_STATEMENT = /^\s*(insert|replace)\b/i;

export class Connection {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set once this connection met damage: SQLCipher then fails later statements with other codes. */
  private damaged = false;
  /** Between BEGIN and COMMIT/ROLLBACK, and whether a write ran in it (a read-only COMMIT proves no room). */
  private inTransaction = false;
  private wroteInTransaction = false;

  private constructor(
    private readonly db: sqlite3.Database,
    readonly file: string,
    /** Whose database this is (the store's handles): its driver errors become storage faults (storage-health.ts). */
    private readonly owner?: StorageOwner,
  ) {}

  /**
   * Opens (or creates, mode 0600) `file` with a raw 32-byte key. The key is set before any
   * other statement, then `sqlite_master` is read so a wrong key fails here, loudly, instead
   * of later — and never by writing a fresh database over the old one.
   */
  static async open(file: string, key: Buffer, options: { create: boolean; owner?: StorageOwner }): Promise<Connection> {
    if (!fs.existsSync(file)) {
      if (!options.create) throw new Error(`database file ${file} does not exist`);
      fs.closeSync(fs.openSync(file, "wx", 0o600));
    }
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle: sqlite3.Database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(handle)));
    });
    const connection = new Connection(db, file, options.owner);
    try {
      await connection.exec(`PRAGMA key = "x'${key.toString("hex")}'"`);
      // SQLCipher would print its own decrypt errors to stderr; a wrong key is reported below instead.
      await connection.exec("PRAGMA cipher_log_level = NONE");
      // Before the first read: a file briefly locked by another process must wait, not look like a wrong key.
      await connection.exec("PRAGMA busy_timeout = 5000");
      try {
        await connection.rawAll("SELECT count(*) AS n FROM sqlite_master");
      } catch (error) {
        // Only "not a database" means the key does not decrypt the file; anything else is reported as it is.
        if ((error as { code?: string }).code !== "SQLITE_NOTADB") throw connection.fault(error);
        // A workspace's key is derived from the master key control.db just opened with: its first page failing is damage.
        if (options.owner?.kind === "workspace") throw connection.fault(error);
        throw new WrongKeyError(`${file} cannot be decrypted with this key (${(error as Error).message})`);
      }
      await connection.exec("PRAGMA journal_mode = WAL");
      await connection.exec("PRAGMA secure_delete = ON");
      await connection.exec("PRAGMA foreign_keys = ON");
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /** Runs `fn` alone on this connection; everything else waits its turn. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.closed) throw new Error(`database ${this.file} is closed`);
      return fn();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  // The methods below skip the lock; callers go through `exclusive` (Database does).
  all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.observed(sql, this.rawAll(sql, params));
  }

  run(sql: string, params: unknown[] = []): Promise<{ changes: number; lastID: number }> {
    return this.observed(
      sql,
      new Promise((resolve, reject) =>
        this.db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
          if (error) reject(error);
          else resolve({ changes: this.changes, lastID: this.lastID });
        }),
      ),
    );
  }

  exec(sql: string): Promise<void> {
    return this.observed(sql, new Promise((resolve, reject) => this.db.exec(sql, (error) => (error ? reject(error) : resolve()))));
  }

  private rawAll(sql: string, params: unknown[] = []): Promise<Row[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows))),
    );
  }

  /**
   * A statement's outcome, seen by storage-health (only for the store's own handles): a failure
   * becomes the storage fault it is (507 full, 503 damaged), and a committed write ends a
   * full-disk episode for this database.
   */
  private async observed<T>(sql: string, statement: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await statement;
    } catch (error) {
      if (/^\s*(commit|rollback)\b/i.test(sql)) this.inTransaction = false;
      throw this.owner ? this.fault(error) : error;
    }
    if (this.owner) this.noteSuccess(this.owner, sql);
    return result;
  }

  private noteSuccess(owner: StorageOwner, sql: string): void {
    if (/^\s*begin\b/i.test(sql)) {
      this.inTransaction = true;
      this.wroteInTransaction = false;
    } else if (/^\s*(commit|end)\b/i.test(sql)) {
      this.inTransaction = false;
      if (this.wroteInTransaction) noteWriteCommitted(owner);
    } else if (/^\s*rollback\b/i.test(sql)) {
      this.inTransaction = false;
    } else if (WRITE_STATEMENT.test(sql)) {
      if (this.inTransaction) this.wroteInTransaction = true;
      else noteWriteCommitted(owner);
    }
  }

  private fault(error: unknown): unknown {
    if (!this.owner) return error;
    const mapped = storageFault(error, { owner: this.owner, file: this.file, damagedBefore: this.damaged });
    if (mapped instanceof StorageDamagedError) this.damaged = true;
    return mapped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}
