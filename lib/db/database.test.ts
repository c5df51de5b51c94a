import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "@/test/store";
import { Connection } from "./connection";
import { Database } from "./database";

const users = sqliteTable("users", { id: integer("id").primaryKey(), name: text("name").notNull() });
const pets = sqliteTable("pets", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  ownerId: integer("owner_id").notNull(),
});
// `n` deliberately has no UNIQUE constraint: two interleaved read-then-insert writers would both succeed with the same n.
const counter = sqliteTable("counter", { rowId: integer("row_id").primaryKey(), n: integer("n").notNull(), writer: text("writer") });
const schema = { users, pets, counter };

let dir = "";
let database: Database<typeof schema>;

beforeEach(async () => {
  dir = makeTempDir();
  database = new Database(await Connection.open(path.join(dir, "test.db"), randomBytes(32), { create: true }), schema);
  await database.db.run(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  await database.db.run(sql`CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner_id INTEGER NOT NULL)`);
  await database.db.run(sql`CREATE TABLE counter (row_id INTEGER PRIMARY KEY, n INTEGER NOT NULL, writer TEXT)`);
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** drizzle wraps a driver error as "Failed query: …" and keeps the original as `cause`. */
async function expectFailedBecause(query: PromiseLike<unknown> | undefined, pattern: RegExp): Promise<void> {
  const error = await Promise.resolve(query).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect(((error as Error).cause as Error | undefined)?.message).toMatch(pattern);
}
const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));
const tableNames = async () =>
  (await database.connection.exclusive(() => database.connection.all("SELECT name FROM sqlite_master WHERE type = 'table'"))).map(
    (row) => row.name,
  );

describe("joins whose column names clash come back whole", () => {
  beforeEach(async () => {
    await database.db.insert(users).values([
      { id: 1, name: "Ada" },
      { id: 2, name: "Grace" },
    ]);
    await database.db.insert(pets).values([
      { id: 10, name: "Rex", ownerId: 1 },
      { id: 20, name: "Tom", ownerId: 2 },
    ]);
  });

  it("a flat select of users.id, pets.id, users.name, pets.name keeps all four", async () => {
    const rows = await database.db
      .select({ userId: users.id, petId: pets.id, userName: users.name, petName: pets.name })
      .from(users)
      .innerJoin(pets, eq(pets.ownerId, users.id))
      .orderBy(users.id);
    expect(rows).toEqual([
      { userId: 1, petId: 10, userName: "Ada", petName: "Rex" },
      { userId: 2, petId: 20, userName: "Grace", petName: "Tom" },
    ]);
  });

  it("select() of a join gives the nested { users, pets } shape with each table's own id and name", async () => {
    const rows = await database.db.select().from(users).innerJoin(pets, eq(pets.ownerId, users.id)).orderBy(users.id);
    expect(rows).toEqual([
      { users: { id: 1, name: "Ada" }, pets: { id: 10, name: "Rex", ownerId: 1 } },
      { users: { id: 2, name: "Grace" }, pets: { id: 20, name: "Tom", ownerId: 2 } },
    ]);
  });

  it(".get() on a clashing join returns one whole row", async () => {
    const row = await database.db
      .select({ petName: pets.name, userName: users.name, petId: pets.id, userId: users.id })
      .from(users)
      .innerJoin(pets, eq(pets.ownerId, users.id))
      .where(eq(users.id, 2))
      .get();
    expect(row).toEqual({ petName: "Tom", userName: "Grace", petId: 20, userId: 2 });
  });

  it("inside a transaction too", async () => {
    const rows = await database.transaction((tx) =>
      tx.select({ userId: users.id, petId: pets.id }).from(users).innerJoin(pets, eq(pets.ownerId, users.id)).orderBy(users.id),
    );
    expect(rows).toEqual([
      { userId: 1, petId: 10 },
      { userId: 2, petId: 20 },
    ]);
  });
});

describe("raw selects", () => {
  it("a select ending in a semicolon still reads", async () => {
    expect(await database.db.all(sql`SELECT 1 AS one;`)).toEqual([[1]]);
  });
});

describe("a result column named like an integer cannot scramble a row", () => {
  beforeEach(async () => {
    await database.db.insert(users).values({ id: 1, name: "Ada" });
  });

  it("an unaliased sql`1` beside another column is refused, not read into the wrong field", async () => {
    await expectFailedBecause(database.db.select({ name: users.name, one: sql<number>`1` }).from(users), /"1" would be read out of order/);
  });

  it("the same expression with an alias, or alone, reads correctly", async () => {
    expect(await database.db.select({ name: users.name, one: sql<number>`1`.as("one") }).from(users)).toEqual([{ name: "Ada", one: 1 }]);
    expect(await database.db.select({ one: sql<number>`1` }).from(users)).toEqual([{ one: 1 }]);
  });
});

describe("transactions are exclusive on their connection", () => {
  it("60 concurrent read-max-then-insert writers end with n = 1..60, no duplicate", async () => {
    const writers = 60;
    await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        database.transaction(async (tx) => {
          const [row] = await tx.select({ max: sql<number | null>`max(${counter.n})` }).from(counter);
          await tick(); // give any other statement every chance to slip in between the read and the write
          await tx.insert(counter).values({ n: (row?.max ?? 0) + 1, writer: `w${i}` });
        }),
      ),
    );
    const ns = (await database.db.select({ n: counter.n }).from(counter)).map((row) => row.n).sort((a, b) => a - b);
    expect(ns).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
  });

  it("plain inserts interleaved with transactions lose no row", async () => {
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        i % 3 === 0
          ? database.db.insert(pets).values({ name: `plain ${i}`, ownerId: i })
          : database.transaction(async (tx) => {
              await tx.insert(pets).values({ name: `tx ${i}a`, ownerId: i });
              await tick();
              await tx.insert(pets).values({ name: `tx ${i}b`, ownerId: i });
            }),
      ),
    );
    expect(await database.db.$count(pets)).toBe(40 + 80 * 2);
  });

  it("a plain statement issued during a transaction that rolls back is not rolled back with it", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = database.transaction(async (tx) => {
      await tx.insert(users).values({ id: 1, name: "rolled back" });
      await gate;
      throw new Error("abort");
    });
    await tick(5);
    // .run() sends it now (a drizzle builder alone would wait to be awaited), while the transaction is open.
    const outside = database.db.insert(users).values({ id: 2, name: "kept" }).run();
    release();
    await expect(failing).rejects.toThrow("abort");
    await outside;
    expect(await database.db.select().from(users)).toEqual([{ id: 2, name: "kept" }]);
  });

  it("a transaction that throws leaves nothing behind and passes its value through when it does not", async () => {
    await expect(
      database.transaction(async (tx) => {
        await tx.insert(users).values({ id: 1, name: "kept?" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await database.db.$count(users)).toBe(0);
    expect(await database.transaction(async (tx) => (await tx.insert(users).values({ id: 3, name: "x" }), "done"))).toBe("done");
  });

  it("a sibling statement of a failed one (rejected Promise.all) is rolled back, not committed", async () => {
    await database.db.insert(users).values({ id: 1, name: "Ada" });
    await expect(
      database.transaction((tx) =>
        Promise.all([tx.insert(users).values({ id: 1, name: "duplicate" }), tx.insert(users).values({ id: 2, name: "sibling" })]),
      ),
    ).rejects.toThrow();
    expect(await database.db.select().from(users)).toEqual([{ id: 1, name: "Ada" }]);
  });

  it("a statement issued after its transaction ended is refused, not run outside it", async () => {
    await database.db.insert(users).values({ id: 1, name: "Ada" });
    let late: Promise<unknown> = Promise.resolve();
    await expect(
      database.transaction(async (tx) => {
        late = tick(20).then(() => tx.insert(users).values({ id: 2, name: "late" }));
        late.catch(() => undefined);
        await tx.insert(users).values({ id: 1, name: "duplicate" });
      }),
    ).rejects.toThrow();
    // Meanwhile another caller's transaction is open when the straggler fires.
    await database.transaction(async (tx) => {
      await tick(40);
      await tx.insert(users).values({ id: 3, name: "next caller" });
    });
    await expectFailedBecause(late, /after its transaction ended/);
    expect(await database.db.select().from(users).orderBy(users.id)).toEqual([
      { id: 1, name: "Ada" },
      { id: 3, name: "next caller" },
    ]);
  });
});

describe("migrations are all or nothing", () => {
  type Migration = { tag: string; when: number; statements: string[] };

  /** A drizzle-kit style folder: meta/_journal.json plus NNNN_name.sql split by statement-breakpoint. */
  function migrationsFolder(migrations: Migration[]): string {
    const folder = path.join(dir, `migrations-${randomBytes(4).toString("hex")}`);
    fs.mkdirSync(path.join(folder, "meta"), { recursive: true });
    const entries = migrations.map((m, idx) => ({ idx, version: "6", when: m.when, tag: m.tag, breakpoints: true }));
    fs.writeFileSync(path.join(folder, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "sqlite", entries }));
    for (const m of migrations) fs.writeFileSync(path.join(folder, `${m.tag}.sql`), m.statements.join("\n--> statement-breakpoint\n"));
    return folder;
  }
  const appliedRows = () => database.connection.exclusive(() => database.connection.all("SELECT created_at FROM __drizzle_migrations"));

  const first: Migration = { tag: "0000_first", when: 1_700_000_000_000, statements: ["CREATE TABLE `first_table` (`x` integer);"] };
  const broken: Migration = {
    tag: "0001_broken",
    when: 1_700_000_001_000,
    statements: ["CREATE TABLE `half_done` (`x` integer);", "CREATE TABLE `no_such` (;"],
  };

  it("a migration whose second statement fails leaves no trace of its first", async () => {
    await expect(database.migrate(migrationsFolder([{ ...broken, tag: "0000_broken" }]))).rejects.toThrow();
    const tables = await tableNames();
    expect(tables).not.toContain("half_done");
    // The bookkeeping table came in the same transaction, so it is gone too: no row records the migration.
    expect(tables).not.toContain("__drizzle_migrations");
  });

  it("a failing migration after applied ones records nothing and keeps the earlier ones", async () => {
    expect(await database.migrate(migrationsFolder([first]))).toBe(1);
    await expect(database.migrate(migrationsFolder([first, broken]))).rejects.toThrow();
    const tables = await tableNames();
    expect(tables).toContain("first_table");
    expect(tables).not.toContain("half_done");
    expect(await appliedRows()).toEqual([{ created_at: first.when }]);
  });

  it("pending migrations apply together or not at all", async () => {
    await expect(database.migrate(migrationsFolder([first, broken]))).rejects.toThrow();
    expect(await tableNames()).not.toContain("first_table");
  });

  it("every statement of a chunk runs, even without breakpoints between them", async () => {
    const folder = migrationsFolder([
      { tag: "0000_two_in_one", when: 1_700_000_000_000, statements: ["CREATE TABLE `a` (`x` integer);\nCREATE TABLE `b` (`y` integer);"] },
    ]);
    expect(await database.migrate(folder)).toBe(1);
    expect(await tableNames()).toEqual(expect.arrayContaining(["a", "b"]));
  });

  it("re-running on an up-to-date database applies 0, and a fixed folder then applies", async () => {
    expect(await database.migrate(migrationsFolder([first]))).toBe(1);
    expect(await database.migrate(migrationsFolder([first]))).toBe(0);
    const fixed = { ...broken, statements: ["CREATE TABLE `half_done` (`x` integer);", "CREATE TABLE `now_fine` (`y` integer);"] };
    expect(await database.migrate(migrationsFolder([first, fixed]))).toBe(1);
    expect(await database.migrate(migrationsFolder([first, fixed]))).toBe(0);
    expect(await appliedRows()).toHaveLength(2);
  });

  it("the real workspace migrations apply once", async () => {
    const folder = path.join(process.cwd(), "db/workspace/migrations");
    expect(await database.migrate(folder)).toBeGreaterThan(0);
    expect(await database.migrate(folder)).toBe(0);
    expect(await tableNames()).toContain("audit_log");
  });
});
