import { drizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { getRequestContext } from "../http/context";
import { logger } from "../http/log";
import type { Connection, Row } from "./connection";

type Method = "run" | "all" | "values" | "get";
export type Drizzle<TSchema extends Record<string, unknown>> = SqliteRemoteDatabase<TSchema>;

/**
 * The driver hands rows back as objects keyed by column name, so `SELECT a.id, b.id` would
 * lose one `id`. Run selects as `SELECT * FROM (<sql>)`: SQLite then names duplicates `id`,
 * `id:1`, … in column order, and `Object.values` gives drizzle the positional row it expects.
 */
function positional(sql: string): string {
  return /^\s*(select|with)\b/i.test(sql) ? `SELECT * FROM (${sql})` : sql;
}

const SLOW_QUERY_MS = 20;

async function execute(connection: Connection, sql: string, params: unknown[], method: Method): Promise<{ rows: unknown[] }> {
  const started = performance.now();
  try {
    if (method === "run") {
      await connection.run(sql, params);
      return { rows: [] };
    }
    const rows: unknown[][] = (await connection.all(positional(sql), params)).map((row: Row) => Object.values(row));
    // For "get", drizzle takes the single row itself (undefined when there is none).
    return { rows: method === "get" ? (rows[0] as unknown[]) : rows };
  } finally {
    const ms = performance.now() - started;
    // The statement text only: parameters may carry secrets.
    if (ms > SLOW_QUERY_MS) logger.warn({ requestId: getRequestContext()?.requestId, ms: Math.round(ms), sql: sql.slice(0, 200) }, "slow query");
  }
}

/** A drizzle database over one connection, with transactions that really are exclusive. */
export class Database<TSchema extends Record<string, unknown>> {
  /** Every statement takes the connection's lock on its own. */
  readonly db: Drizzle<TSchema>;
  /** Skips the lock: only handed out inside `transaction`, which already holds it. */
  private readonly unlocked: Drizzle<TSchema>;

  constructor(
    readonly connection: Connection,
    schema: TSchema,
  ) {
    this.db = drizzle(
      (sql, params, method) => connection.exclusive(() => execute(connection, sql, params, method)),
      { schema },
    );
    this.unlocked = drizzle((sql, params, method) => execute(connection, sql, params, method), { schema });
  }

  /** BEGIN IMMEDIATE … COMMIT, holding the connection so no other request's statement lands inside. */
  transaction<T>(fn: (tx: Drizzle<TSchema>) => Promise<T>): Promise<T> {
    return this.connection.exclusive(() => inTransaction(this.connection, () => fn(this.unlocked)));
  }

  /** Applies pending drizzle-kit migrations from `folder` in one transaction: all or nothing. */
  migrate(folder: string): Promise<number> {
    const migrations = readMigrationFiles({ migrationsFolder: folder });
    return this.connection.exclusive(() =>
      inTransaction(this.connection, async () => {
        await this.connection.run(
          "CREATE TABLE IF NOT EXISTS __drizzle_migrations (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)",
        );
        const [last] = await this.connection.all("SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1");
        const pending = migrations.filter((m) => !last || Number(last.created_at) < m.folderMillis);
        for (const migration of pending) {
          for (const statement of migration.sql) {
            if (statement.trim()) await this.connection.run(statement);
          }
          await this.connection.run("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)", [
            migration.hash,
            migration.folderMillis,
          ]);
        }
        return pending.length;
      }),
    );
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

async function inTransaction<T>(connection: Connection, fn: () => Promise<T>): Promise<T> {
  await connection.exec("BEGIN IMMEDIATE");
  try {
    const result = await fn();
    await connection.exec("COMMIT");
    return result;
  } catch (error) {
    await connection.exec("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
