import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import sqlite3 from "@journeyapps/sqlcipher";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { auditControl, auditWorkspace } from "@/lib/audit/audit";
import { deriveControlKey, deriveWorkspaceKey } from "@/lib/crypto/keys";
import { randomId } from "@/lib/crypto/ids";
import { makeTempDir, testConfig } from "@/test/store";
import { Connection, WrongKeyError } from "./connection";
import { closeStore, createWorkspaceFile, getStore } from "./store";

const SQLITE_HEADER = "SQLite format 3\0";
const MARKER = "plaintext-marker-7f3a";

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const rawKeyPragma = (key: Buffer) => `PRAGMA key = "x'${key.toString("hex")}'"`;

/** The bare driver, no Connection code: optionally a key pragma, then a read of sqlite_master. */
async function readSchemaWithDriver(file: string, keyPragma?: string): Promise<string[]> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle: sqlite3.Database = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (error) => (error ? reject(error) : resolve(handle)));
  });
  try {
    return await new Promise<string[]>((resolve, reject) =>
      db.serialize(() => {
        if (keyPragma) db.run(keyPragma);
        db.run("PRAGMA cipher_log_level = NONE");
        db.all("SELECT name FROM sqlite_master", (error: Error | null, rows: { name: string }[]) =>
          error ? reject(error) : resolve(rows.map((row) => row.name)),
        );
      }),
    );
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

let dataDir = "";
let master: Buffer;
let workspaceId = "";
let controlFile = "";
let workspaceFile = "";

// A real store with a control.db and one workspace.db, each holding a row that carries MARKER.
beforeEach(async () => {
  dataDir = makeTempDir();
  setConfigForTests(testConfig(dataDir));
  workspaceId = randomId("ws");
  await createWorkspaceFile(workspaceId);
  await auditControl({ actor: { type: "system" }, action: "user.create", details: { note: MARKER } });
  await auditWorkspace(workspaceId, { actor: { type: "system" }, action: "workspace.create", details: { note: MARKER } });
  master = getStore().masterKey;
  controlFile = path.join(dataDir, "control.db");
  workspaceFile = getStore().workspaceFile(workspaceId);
});

afterEach(async () => {
  await closeStore();
  setConfigForTests(undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("files on disk are not plain SQLite", () => {
  it("neither file starts with the SQLite header nor contains a written value", async () => {
    await closeStore();
    for (const file of [controlFile, workspaceFile]) {
      const bytes = fs.readFileSync(file);
      expect(bytes.subarray(0, 16).toString("latin1")).not.toBe(SQLITE_HEADER);
      expect(bytes.includes(MARKER)).toBe(false);
    }
  });

  it("the write-ahead logs of open databases are encrypted too", () => {
    const logs = [`${controlFile}-wal`, `${workspaceFile}-wal`].filter((file) => fs.existsSync(file));
    expect(logs.length).toBeGreaterThan(0);
    for (const file of logs) expect(fs.readFileSync(file).includes(MARKER)).toBe(false);
  });

  it("the bare driver cannot read sqlite_master of either file without a key", async () => {
    await closeStore();
    for (const file of [controlFile, workspaceFile]) {
      await expect(readSchemaWithDriver(file)).rejects.toThrow(/file is not a database/);
    }
  });

  it("the bare driver cannot read either file with another key, but can with its own", async () => {
    await closeStore();
    const otherMaster = randomBytes(32);
    await expect(readSchemaWithDriver(controlFile, rawKeyPragma(deriveControlKey(otherMaster)))).rejects.toThrow(/not a database/);
    await expect(readSchemaWithDriver(workspaceFile, rawKeyPragma(deriveWorkspaceKey(otherMaster, workspaceId)))).rejects.toThrow(/not a database/);
    await expect(readSchemaWithDriver(workspaceFile, "PRAGMA key = 'a guessed passphrase'")).rejects.toThrow(/not a database/);
    // Positive control: the helper does read the files when given the right keys.
    expect(await readSchemaWithDriver(controlFile, rawKeyPragma(deriveControlKey(master)))).toContain("audit_log");
    expect(await readSchemaWithDriver(workspaceFile, rawKeyPragma(deriveWorkspaceKey(master, workspaceId)))).toContain("audit_log");
  });
});

describe("Connection.open refuses a key that is not the file's own", () => {
  it("another workspace's derived key does not open a workspace file (WrongKeyError)", async () => {
    await closeStore();
    const before = sha256(workspaceFile);
    const otherKey = deriveWorkspaceKey(master, randomId("ws"));
    await expect(Connection.open(workspaceFile, otherKey, { create: false })).rejects.toBeInstanceOf(WrongKeyError);
    await expect(Connection.open(workspaceFile, otherKey, { create: true })).rejects.toBeInstanceOf(WrongKeyError);
    expect(sha256(workspaceFile)).toBe(before);
  });

  it("the control key does not open a workspace file, nor a workspace key control.db", async () => {
    await closeStore();
    await expect(Connection.open(workspaceFile, deriveControlKey(master), { create: false })).rejects.toBeInstanceOf(WrongKeyError);
    await expect(Connection.open(controlFile, deriveWorkspaceKey(master, workspaceId), { create: false })).rejects.toBeInstanceOf(
      WrongKeyError,
    );
  });

  it("the error names the file and the wrong key leaves nothing behind; the right key still opens it", async () => {
    await closeStore();
    const error = await Connection.open(workspaceFile, randomBytes(32), { create: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongKeyError);
    expect((error as Error).message).toContain(workspaceFile);
    expect(fs.readdirSync(path.dirname(workspaceFile))).toEqual(["workspace.db"]);
    const connection = await Connection.open(workspaceFile, deriveWorkspaceKey(master, workspaceId), { create: false });
    const rows = await connection.exclusive(() => connection.all("SELECT count(*) AS n FROM audit_log"));
    expect(rows).toEqual([{ n: 1 }]);
    await connection.close();
  });

  it("a plain SQLite file is not accepted as an encrypted one", async () => {
    const plainFile = path.join(dataDir, "plain.db");
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(plainFile, (error) => {
        if (error) return reject(error);
        db.exec("CREATE TABLE t (x)", (execError) => db.close(() => (execError ? reject(execError) : resolve())));
      });
    });
    expect(fs.readFileSync(plainFile).subarray(0, 16).toString("latin1")).toBe(SQLITE_HEADER);
    await expect(Connection.open(plainFile, randomBytes(32), { create: false })).rejects.toBeInstanceOf(WrongKeyError);
  });
});

describe("Connection.open never creates a file it was not asked to", () => {
  it("a missing file with create: false rejects and stays missing", async () => {
    const missing = path.join(dataDir, "missing.db");
    await expect(Connection.open(missing, randomBytes(32), { create: false })).rejects.toThrow(/does not exist/);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it("a file it creates, and its WAL and shared-memory files, are 0600", async () => {
    const file = path.join(dataDir, "fresh.db");
    const connection = await Connection.open(file, randomBytes(32), { create: true });
    await connection.exclusive(() => connection.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
    for (const created of [file, `${file}-wal`, `${file}-shm`]) expect(mode(created)).toBe(0o600);
    await connection.close();
  });
});

describe("a connection's lock", () => {
  it("runs exclusive sections one at a time, in the order they were asked for", async () => {
    const connection = await Connection.open(path.join(dataDir, "lock.db"), randomBytes(32), { create: true });
    const events: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        connection.exclusive(async () => {
          events.push(`start ${i}`);
          await new Promise((resolve) => setTimeout(resolve, 1));
          events.push(`end ${i}`);
        }),
      ),
    );
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
    await connection.close();
  });

  it("a failed section does not block the ones after it", async () => {
    const connection = await Connection.open(path.join(dataDir, "lock.db"), randomBytes(32), { create: true });
    await expect(connection.exclusive(() => connection.run("NOT SQL"))).rejects.toThrow();
    await expect(connection.exclusive(() => connection.all("SELECT 1 AS one"))).resolves.toEqual([{ one: 1 }]);
    await connection.close();
  });

  it("refuses work once closed instead of touching a closed handle", async () => {
    const connection = await Connection.open(path.join(dataDir, "lock.db"), randomBytes(32), { create: true });
    await connection.close();
    await expect(connection.exclusive(() => connection.all("SELECT 1"))).rejects.toThrow(/is closed/);
  });
});

describe("a file locked by another connection is not mistaken for a wrong key", () => {
  it("opening waits out a lock held for 1.5 s (longer than the driver's default) and then succeeds", async () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, "locked.db");
      const key = randomBytes(32);
      const holder = await Connection.open(file, key, { create: true });
      await holder.exec("PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)");
      const release = new Promise<void>((resolve) =>
        setTimeout(() => void holder.exec("COMMIT; PRAGMA locking_mode = NORMAL; SELECT 1 FROM t").then(() => holder.close()).then(resolve), 1_500),
      );
      const opened = await Connection.open(file, key, { create: false });
      await release;
      expect(await opened.all("SELECT x FROM t")).toEqual([{ x: 1 }]);
      await opened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
