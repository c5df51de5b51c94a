import fs from "node:fs";
import sqlite3 from "@journeyapps/sqlcipher";

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

export class Connection {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly db: sqlite3.Database,
    readonly file: string,
  ) {}

  /**
   * Opens (or creates, mode 0600) `file` with a raw 32-byte key. The key is set before any
   * other statement, then `sqlite_master` is read so a wrong key fails here, loudly, instead
   * of later — and never by writing a fresh database over the old one.
   */
  static async open(file: string, key: Buffer, options: { create: boolean }): Promise<Connection> {
    if (!fs.existsSync(file)) {
      if (!options.create) throw new Error(`database file ${file} does not exist`);
      fs.closeSync(fs.openSync(file, "wx", 0o600));
    }
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const handle: sqlite3.Database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(handle)));
    });
    const connection = new Connection(db, file);
    try {
      await connection.exec(`PRAGMA key = "x'${key.toString("hex")}'"`);
      // SQLCipher would print its own decrypt errors to stderr; a wrong key is reported below instead.
      await connection.exec("PRAGMA cipher_log_level = NONE");
      // Before the first read: a file briefly locked by another process must wait, not look like a wrong key.
      await connection.exec("PRAGMA busy_timeout = 5000");
      try {
        await connection.all("SELECT count(*) AS n FROM sqlite_master");
      } catch (error) {
        // Only "not a database" means the key does not decrypt the file; anything else is reported as it is.
        if ((error as { code?: string }).code !== "SQLITE_NOTADB") throw error;
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

  // The raw methods below skip the lock; callers go through `exclusive` (Database does).
  all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows))),
    );
  }

  run(sql: string, params: unknown[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (this: sqlite3.RunResult, error: Error | null) {
        if (error) reject(error);
        else resolve({ changes: this.changes, lastID: this.lastID });
      }),
    );
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    await new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve())));
  }
}
