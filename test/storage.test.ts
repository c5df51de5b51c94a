import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import sqlite3 from "@journeyapps/sqlcipher";
import { eq, sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterEach, describe, expect, it } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { auditWorkspace, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { deriveControlKey, deriveWorkspaceKey, MasterKeyError } from "@/lib/crypto/keys";
import { randomId } from "@/lib/crypto/tokens";
import { Connection, WrongKeyError } from "@/lib/db/connection";
import { Database } from "@/lib/db/database";
import { closeStore, createWorkspaceFile, getStore, withWorkspace } from "@/lib/db/store";
import { makeTempDir, testConfig } from "./store";

const dirs: string[] = [];
afterEach(async () => {
  await closeStore();
  setConfigForTests(undefined);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function useDataDir(env: Record<string, string> = {}): string {
  const dataDir = makeTempDir();
  dirs.push(dataDir);
  setConfigForTests(testConfig(dataDir, env));
  return dataDir;
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Opens a file with the bare driver and reads sqlite_master, optionally after a key pragma. */
async function readWithDriver(file: string, keyPragma?: string): Promise<unknown> {
  const db = new sqlite3.Database(file);
  try {
    return await new Promise((resolve, reject) => {
      db.serialize(() => {
        db.run("PRAGMA cipher_log_level = NONE");
        if (keyPragma) db.run(keyPragma);
        db.all("SELECT name FROM sqlite_master", (error, rows) => (error ? reject(error) : resolve(rows)));
      });
    });
  } finally {
    db.close();
  }
}

describe("files on disk are encrypted", () => {
  it("control.db and workspace.db are not plain SQLite and need their own key", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    await auditWorkspace(workspaceId, { actor: { type: "system" }, action: "workspace.create", details: { secret: "plaintext-marker" } });
    await closeStore();

    const controlFile = path.join(dataDir, "control.db");
    const workspaceFile = path.join(dataDir, "workspaces", workspaceId, "workspace.db");
    for (const file of [controlFile, workspaceFile]) {
      expect(fs.readFileSync(file).subarray(0, 16).toString("latin1")).not.toBe("SQLite format 3\0");
      expect(fs.readFileSync(file).includes("plaintext-marker")).toBe(false);
      await expect(readWithDriver(file)).rejects.toThrow(/not a database|encrypted/i);
    }
    const master = Buffer.from(fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim(), "hex");
    const hex = (key: Buffer) => `PRAGMA key = "x'${key.toString("hex")}'"`;
    // The right derived key opens each file; the other file's key, or another workspace's, does not.
    await expect(readWithDriver(workspaceFile, hex(deriveWorkspaceKey(master, workspaceId)))).resolves.toBeDefined();
    await expect(readWithDriver(workspaceFile, hex(deriveControlKey(master)))).rejects.toThrow();
    await expect(readWithDriver(workspaceFile, hex(deriveWorkspaceKey(master, randomId("ws"))))).rejects.toThrow();
    await expect(Connection.open(controlFile, deriveWorkspaceKey(master, workspaceId), { create: false })).rejects.toBeInstanceOf(WrongKeyError);
  });
});

describe("the master key", () => {
  it("a wrong ENCLAVE_MASTER_KEY is refused and control.db is left exactly as it was", async () => {
    const dataDir = useDataDir({ ENCLAVE_MASTER_KEY: randomBytes(32).toString("hex") });
    await getStore().control;
    await closeStore();
    const before = sha256(path.join(dataDir, "control.db"));
    setConfigForTests(testConfig(dataDir, { ENCLAVE_MASTER_KEY: randomBytes(32).toString("base64") }));
    await expect(getStore().control).rejects.toThrow(MasterKeyError);
    await expect(getStore().control).rejects.toThrow(/master key/i);
    expect(sha256(path.join(dataDir, "control.db"))).toBe(before);
  });

  it("is generated once (0600, 64 hex) and read back on the next start", async () => {
    const dataDir = useDataDir();
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    const keyFile = path.join(dataDir, "master.key");
    const key = fs.readFileSync(keyFile, "utf8");
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(keyFile)).toBe(0o600);
    await closeStore();
    await withWorkspace(workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog));
    expect(fs.readFileSync(keyFile, "utf8")).toBe(key);
  });

  it("a missing master.key beside an existing control.db is an error, not a new key", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    await closeStore();
    fs.rmSync(path.join(dataDir, "master.key"));
    expect(() => getStore()).toThrow(MasterKeyError);
    expect(fs.existsSync(path.join(dataDir, "master.key"))).toBe(false);
  });
});

describe("file modes", () => {
  it("are 0700/0600 and loosened ones are put back at start", async () => {
    const dataDir = useDataDir();
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    const workspaceDir = path.join(dataDir, "workspaces", workspaceId);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(workspaceDir)).toBe(0o700);
    expect(mode(path.join(dataDir, "control.db"))).toBe(0o600);
    expect(mode(path.join(workspaceDir, "workspace.db"))).toBe(0o600);
    await closeStore();
    fs.chmodSync(path.join(dataDir, "control.db"), 0o644);
    fs.chmodSync(workspaceDir, 0o755);
    await getStore().control;
    expect(mode(path.join(dataDir, "control.db"))).toBe(0o600);
    expect(mode(workspaceDir)).toBe(0o700);
  });
});

describe("workspace ids never become arbitrary paths", () => {
  it("refuses ids that are not ours and never creates a file for an unknown workspace", async () => {
    const dataDir = useDataDir();
    for (const id of ["../../etc", "ws_../x", "WS_" + "a".repeat(32), "ws_" + "a".repeat(31), ""]) {
      expect(() => getStore().workspaceFile(id)).toThrow(/invalid workspace id/);
    }
    const unknown = randomId("ws");
    await expect(withWorkspace(unknown, () => Promise.resolve())).rejects.toThrow(/does not exist/);
    expect(fs.existsSync(path.join(dataDir, "workspaces", unknown))).toBe(false);
  });
});

describe("the workspace handle cache", () => {
  it("evicts past its size and reopens with the data intact", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "2" });
    const ids = Array.from({ length: 5 }, () => randomId("ws"));
    for (const id of ids) {
      await createWorkspaceFile(id);
      await auditWorkspace(id, { actor: { type: "system" }, action: "workspace.create", target: id });
    }
    expect(getStore().openWorkspaceCount).toBe(2);
    for (const id of ids) {
      const rows = await withWorkspace(id, (db) => db.db.select().from(workspaceAuditLog));
      expect(rows.map((row) => row.target)).toEqual([id]);
    }
  });

  it("does not close a handle under a request that is still using it", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "1" });
    const [first, second] = [randomId("ws"), randomId("ws")];
    await createWorkspaceFile(first);
    await auditWorkspace(first, { actor: { type: "system" }, action: "workspace.create", target: first });
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const inFlight = withWorkspace(first, async (db) => {
      await held;
      return db.db.select().from(workspaceAuditLog);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await createWorkspaceFile(second); // evicts `first` while it is held
    release();
    await expect(inFlight).resolves.toHaveLength(1);
  });
});

const people = sqliteTable("people", { id: integer("id").primaryKey(), name: text("name").notNull() });
const pets = sqliteTable("pets", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  ownerId: integer("owner_id").notNull(),
});

async function scratchDatabase(): Promise<Database<{ people: typeof people; pets: typeof pets }>> {
  const dir = makeTempDir();
  dirs.push(dir);
  const connection = await Connection.open(path.join(dir, "scratch.db"), randomBytes(32), { create: true });
  const database = new Database(connection, { people, pets });
  await database.db.run(sql`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  await database.db.run(sql`CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner_id INTEGER NOT NULL)`);
  return database;
}

describe("the drizzle adapter", () => {
  it("returns both columns of a join whose column names clash", async () => {
    const database = await scratchDatabase();
    await database.db.insert(people).values({ id: 1, name: "Ada" });
    await database.db.insert(pets).values({ id: 7, name: "Rex", ownerId: 1 });
    const flat = await database.db
      .select({ personId: people.id, petId: pets.id, personName: people.name, petName: pets.name })
      .from(people)
      .innerJoin(pets, eq(pets.ownerId, people.id));
    expect(flat).toEqual([{ personId: 1, petId: 7, personName: "Ada", petName: "Rex" }]);
    const nested = await database.db.select().from(people).innerJoin(pets, eq(pets.ownerId, people.id));
    expect(nested).toEqual([{ people: { id: 1, name: "Ada" }, pets: { id: 7, name: "Rex", ownerId: 1 } }]);
    await database.close();
  });

  it("keeps concurrent read-then-write transactions from interleaving", async () => {
    const database = await scratchDatabase();
    const writers = 60;
    await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        database.transaction(async (tx) => {
          const [row] = await tx.select({ max: sql<number | null>`max(id)` }).from(people);
          await tx.insert(people).values({ id: (row?.max ?? 0) + 1, name: `writer ${i}` });
        }),
      ),
    );
    const ids = (await database.db.select({ id: people.id }).from(people)).map((row) => row.id);
    expect(ids).toHaveLength(writers);
    expect(new Set(ids).size).toBe(writers);
    await database.close();
  });

  it("loses no row when plain writes race transactions", async () => {
    const database = await scratchDatabase();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        i % 2 === 0
          ? database.db.insert(pets).values({ name: `plain ${i}`, ownerId: i })
          : database.transaction((tx) => tx.insert(pets).values({ name: `tx ${i}`, ownerId: i })),
      ),
    );
    expect(await database.db.$count(pets)).toBe(100);
    await database.close();
  });

  it("rolls a transaction back whole when it throws", async () => {
    const database = await scratchDatabase();
    await expect(
      database.transaction(async (tx) => {
        await tx.insert(people).values({ id: 1, name: "kept?" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await database.db.$count(people)).toBe(0);
    await database.close();
  });
});

describe("migrations", () => {
  function migrationsFolder(statements: string[]): string {
    const folder = makeTempDir();
    dirs.push(folder);
    fs.mkdirSync(path.join(folder, "meta"));
    fs.writeFileSync(
      path.join(folder, "meta", "_journal.json"),
      JSON.stringify({ version: "7", dialect: "sqlite", entries: [{ idx: 0, version: "6", when: 1_700_000_000_000, tag: "0000_test", breakpoints: true }] }),
    );
    fs.writeFileSync(path.join(folder, "0000_test.sql"), statements.join("\n--> statement-breakpoint\n"));
    return folder;
  }

  it("a migration that fails halfway leaves the file as it was", async () => {
    const database = await scratchDatabase();
    const folder = migrationsFolder(["CREATE TABLE first_half (x INTEGER);", "CREATE TABLE broken (;"]);
    await expect(database.migrate(folder)).rejects.toThrow();
    const tables = await database.connection.exclusive(() => database.connection.all("SELECT name FROM sqlite_master WHERE type = 'table'"));
    expect(tables.map((row) => row.name)).not.toContain("first_half");
    expect(tables.map((row) => row.name)).not.toContain("__drizzle_migrations");
    await database.close();
  });

  it("applies pending migrations once", async () => {
    const database = await scratchDatabase();
    const folder = migrationsFolder(["CREATE TABLE once (x INTEGER);"]);
    expect(await database.migrate(folder)).toBe(1);
    expect(await database.migrate(folder)).toBe(0);
    await database.close();
  });
});
