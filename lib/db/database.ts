import { drizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { getRequestContext } from "../log/request-context";
import { logger } from "../log/logger";
import type { Connection, Row } from "./connection";

type Method = "run" | "all" | "values" | "get";
export type Drizzle<TSchema extends Record<string, unknown>> = SqliteRemoteDatabase<TSchema>;

/**
 * The driver hands rows back as objects keyed by column name, so `SELECT a.id, b.id` would
 * lose one `id`. Run selects as `SELECT * FROM (<sql>)`: SQLite then names duplicates `id`,
 * `id:1`, … in column order, and `Object.values` gives drizzle the positional row it expects.
 */
function positional(sql: string): string {
  // A trailing `;` is legal on its own but not inside the parentheses.
  return /^\s*(select|with)\b/i.test(sql) ? `SELECT * FROM (${sql.replace(/[\s;]+$/, "")})` : sql;
}

// JS lists integer-like keys first, whatever their column order, so a result column named
// "1" (an unaliased sql`1`) would move its value to another field. Refuse rather than scramble.
const INDEX_LIKE_NAME = /^(0|[1-9][0-9]*)$/;

function positionalRows(rows: Row[]): unknown[][] {
  const names = rows[0] ? Object.keys(rows[0]) : [];
  const clash = names.length > 1 ? names.find((name) => INDEX_LIKE_NAME.test(name)) : undefined;
  if (clash !== undefined) throw new Error(`result column "${clash}" would be read out of order; give it a name with .as()`);
  return rows.map((row) => Object.values(row));
}

const SLOW_QUERY_MS = 20;

async function timed<T>(sql: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    const ms = performance.now() - started;
    // The statement text only: parameters may carry secrets.
    if (ms > SLOW_QUERY_MS) logger.warn({ requestId: getRequestContext()?.requestId, ms: Math.round(ms), sql: sql.slice(0, 200) }, "slow query");
  }
}

function execute(connection: Connection, sql: string, params: unknown[], method: Method): Promise<{ rows: unknown[] }> {
  return timed(sql, async () => {
    if (method === "run") {
      await connection.run(sql, params);
      return { rows: [] };
    }
    const rows = positionalRows(await connection.all(positional(sql), params));
    // For "get", drizzle takes the single row itself (undefined when there is none).
    return { rows: method === "get" ? (rows[0] as unknown[]) : rows };
  });
}

/** A drizzle database over one connection, with transactions that really are exclusive. */
export class Database<TSchema extends Record<string, unknown>> {
  /** Every statement takes the connection's lock on its own. */
  readonly db: Drizzle<TSchema>;

  constructor(
    readonly connection: Connection,
    private readonly schema: TSchema,
  ) {
    this.db = drizzle(
      (sql, params, method) => connection.exclusive(() => execute(connection, sql, params, method)),
      { schema },
    );
  }

  /** A raw statement's rows as objects keyed by column name, for SQL drizzle cannot express (FTS5). */
  rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.connection.exclusive(() => timed(sql, () => this.connection.all(sql, params)));
  }

  /** BEGIN IMMEDIATE … COMMIT, holding the connection so no other request's statement lands inside. */
  transaction<T>(fn: (tx: Drizzle<TSchema>) => Promise<T>): Promise<T> {
    return this.connection.exclusive(() =>
      inTransaction(this.connection, async () => {
        // `tx` skips the lock (the transaction holds it) and lives only as long as the transaction:
        // a statement still running when `fn` settles (a sibling in a rejected Promise.all) ends
        // before COMMIT/ROLLBACK, and one issued afterwards is refused — it would otherwise run
        // outside the transaction, or inside the next caller's.
        const running = new Set<Promise<unknown>>();
        let open = true;
        const tx = drizzle(
          (sql, params, method) => {
            if (!open) return Promise.reject(new Error("statement issued after its transaction ended"));
            const result = execute(this.connection, sql, params, method);
            running.add(result);
            return result;
          },
          { schema: this.schema },
        );
        try {
          return await fn(tx);
        } finally {
          open = false;
          await Promise.allSettled(running);
        }
      }),
    );
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
            // exec, not run: run would silently apply only the first statement of a chunk that has several.
            if (statement.trim()) await this.connection.exec(statement);
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
