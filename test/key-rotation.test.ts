import { randomBytes } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { authorize } from "@/lib/access/authorize";
import { controlAuditLog } from "@/lib/audit/audit";
import { auditSigner } from "@/lib/audit/checkpoint";
import { finishInterruptedRotation, rotateMasterKey } from "@/lib/backup/key-rotation";
import { databaseFiles, readJournal } from "@/lib/backup/rotation-journal";
import { setConfigForTests } from "@/lib/config";
import { masterKeyId, MasterKeyError } from "@/lib/crypto/keys";
import { Connection } from "@/lib/db/connection";
import { acquireLease, LEASE_FILE, LeaseHeldError, liveLeaseHolder, processStartOf } from "@/lib/db/lease";
import { closeStore, getControlDb, getStore } from "@/lib/db/store";
import { searchKnowledge } from "@/lib/workspace/search";
import { runEnclave } from "./cli-helpers";
import { digestDataDir, openWith, seedRotationStore } from "./rotation-fixtures";
import { makeTempDir, testConfig, useTempStore } from "./store";

const store = useTempStore();

/** A new master key in a 0600 file outside the data dir. */
function newKeyFile(key: Buffer = randomBytes(32), mode = 0o600): { key: Buffer; file: string } {
  const file = path.join(makeTempDir(), "new.key");
  fs.writeFileSync(file, key.toString("hex") + "\n", { mode });
  fs.chmodSync(file, mode);
  return { key, file };
}

const masterKeyOnDisk = (dataDir: string) => fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim();

async function rotationRows() {
  const control = await getControlDb();
  return control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "key.rotate"));
}

const cli = (dataDir: string, ...args: string[]) => runEnclave(dataDir, args, { env: { LOG_LEVEL: "error" } });

describe("enclave key rotate", () => {
  it("re-keys every file of a populated store (deleted-but-held included): new keys open them, old ones do not, nothing changes, search and every chain work", async () => {
    const ids = await seedRotationStore(3, { deleteLast: true });
    const dataDir = store.dataDir();
    const oldKey = getStore().masterKey;
    const before = await digestDataDir(dataDir, oldKey);
    expect(Object.keys(before.digests)).toHaveLength(4);
    await closeStore();

    const { key: newKey, file } = newKeyFile();
    const steps: string[] = [];
    const result = await rotateMasterKey({ newKeyFile: file, onFile: (step) => steps.push(`${step.file}:${step.outcome}`) });
    expect(steps).toEqual(databaseFiles(dataDir).map((name) => `${name}:rekeyed`));
    expect(steps).toContain(`workspaces/${ids[2]}/workspace.db:rekeyed`);
    expect(result).toMatchObject({ oldKeyId: masterKeyId(oldKey), newKeyId: masterKeyId(newKey), files: 4, resumed: false });
    expect(result.newAuditKeyId).toBe(auditSigner(newKey).keyId);

    for (const name of databaseFiles(dataDir)) {
      expect(await openWith(dataDir, name, oldKey), `${name} still opens with the old key`).toBeNull();
    }
    const after = await digestDataDir(dataDir, newKey);
    expect(after.digests).toEqual(before.digests);
    expect(Object.values(after.chains).every(Boolean)).toBe(true);
    expect(masterKeyOnDisk(dataDir)).toBe(newKey.toString("hex"));
    for (const leftover of ["rotation.json", "master.key.next"]) expect(fs.existsSync(path.join(dataDir, leftover))).toBe(false);
    expect(fs.statSync(path.join(dataDir, "master.key")).mode & 0o777).toBe(0o600);

    // The store opens on the new key as if nothing happened: FTS search, and the audit row naming both keys (never a key byte).
    expect(getStore().masterKey.equals(newKey)).toBe(true);
    const hits = await searchKnowledge(await authorize({ kind: "operator", via: "cli" }, ids[0] ?? "", "search"), { q: "zebrafish", limit: 20 });
    expect(hits.map((hit) => hit.title)).toEqual(["Runbook 0"]);
    const [row, ...more] = await rotationRows();
    expect(more).toHaveLength(0);
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({ oldKeyId: result.oldKeyId, newKeyId: result.newKeyId, newAuditKeyId: result.newAuditKeyId, files: 4 });
    expect(JSON.stringify(row)).not.toContain(newKey.toString("hex"));
    expect(JSON.stringify(row)).not.toContain(oldKey.toString("hex"));

    // The same command again — what whoever re-runs a rotation killed after its last step does: done, nothing re-keyed, no second row.
    const again = await rotateMasterKey({ newKeyFile: file, onFile: () => { throw new Error("nothing should be re-keyed"); } });
    expect(again).toEqual({ ...result, resumed: true });
    expect(await rotationRows()).toHaveLength(1);
  });

  it("SQLCipher 4 re-keys a WAL database both in WAL mode and switched to a rollback journal", async () => {
    const dir = makeTempDir();
    for (const mode of ["wal", "delete"]) {
      const file = path.join(dir, `${mode}.db`);
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
      const connection = await Connection.open(file, oldKey, { create: true });
      await connection.exec("CREATE TABLE t (x)");
      for (let i = 0; i < 50; i += 1) await connection.run("INSERT INTO t VALUES (?)", [randomBytes(500).toString("hex")]);
      if (mode === "delete") {
        await connection.all("PRAGMA wal_checkpoint(TRUNCATE)");
        expect(await connection.all("PRAGMA journal_mode = DELETE")).toEqual([{ journal_mode: "delete" }]);
      }
      await connection.exec(`PRAGMA rekey = "x'${newKey.toString("hex")}'"`);
      await connection.close();
      await expect(Connection.open(file, oldKey, { create: false })).rejects.toThrow(/cannot be decrypted/);
      const reopened = await Connection.open(file, newKey, { create: false });
      expect(await reopened.all("SELECT count(*) AS n FROM t")).toEqual([{ n: 50 }]);
      expect(await reopened.all("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
      await reopened.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a kill inside PRAGMA rekey leaves a hot journal that puts the file back under the old key, whichever key tries it first", async () => {
    const dir = makeTempDir();
    const file = path.join(dir, "big.db");
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const connection = await Connection.open(file, oldKey, { create: true });
    await connection.exec("CREATE TABLE t (x)");
    await connection.exec("BEGIN");
    for (let i = 0; i < 1500; i += 1) await connection.run("INSERT INTO t VALUES (?)", [randomBytes(5000).toString("hex")]);
    await connection.exec("COMMIT");
    await connection.close();
    // The rotation's own steps, in a process of its own, with a small cache so pages reach the file mid-rekey.
    const script = `const sqlite3 = require("@journeyapps/sqlcipher"); const db = new sqlite3.Database(${JSON.stringify(file)});
      db.serialize(() => { db.run(\`PRAGMA key = "x'${oldKey.toString("hex")}'"\`); db.run("PRAGMA journal_mode = DELETE"); db.run("PRAGMA cache_size = 50");
        db.run(\`PRAGMA rekey = "x'${newKey.toString("hex")}'"\`, () => process.exit(0)); });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
    const journal = `${file}-journal`;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (fs.existsSync(journal) && fs.statSync(journal).size > 1024 * 1024) {
          child.kill("SIGKILL");
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    await new Promise((resolve) => child.on("exit", resolve));
    expect(fs.existsSync(journal)).toBe(true);
    // The new key first, as the rotation tries it: the playback is byte for byte, so the file is old-key again, whole.
    await expect(Connection.open(file, newKey, { create: false })).rejects.toThrow(/cannot be decrypted/);
    expect(fs.existsSync(journal)).toBe(false);
    const reopened = await Connection.open(file, oldKey, { create: false });
    expect(await reopened.all("SELECT count(*) AS n FROM t")).toEqual([{ n: 1500 }]);
    expect(await reopened.all("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
    await reopened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a malformed, loose, equal or missing key, ENCLAVE_MASTER_KEY, and no key at all, changing nothing", async () => {
    await seedRotationStore(1);
    const dataDir = store.dataDir();
    const oldKey = getStore().masterKey;
    await closeStore();
    const refusals: [string | undefined, RegExp][] = [
      [newKeyFile().file.replace("new.key", "absent.key"), /does not exist/],
      [(() => { const { file } = newKeyFile(); fs.writeFileSync(file, "not hex at all\n"); return file; })(), /not 64 hex characters/],
      [(() => { const { file } = newKeyFile(); fs.writeFileSync(file, randomBytes(31).toString("hex")); return file; })(), /not 64 hex characters/],
      [newKeyFile(randomBytes(32), 0o644).file, /readable or writable by group or others \(mode 644\)/],
      [newKeyFile(randomBytes(32), 0o640).file, /mode 640/],
      [makeTempDir(), /not a regular file/],
      [newKeyFile(oldKey).file, /holds the current master key/],
      [undefined, /no rotation is under way: give the new key/],
    ];
    for (const [file, message] of refusals) {
      await expect(rotateMasterKey({ newKeyFile: file })).rejects.toThrow(message);
    }
    setConfigForTests(testConfig(dataDir, { ENCLAVE_MASTER_KEY: oldKey.toString("hex") }));
    await expect(rotateMasterKey({ newKeyFile: newKeyFile().file })).rejects.toThrow(/ENCLAVE_MASTER_KEY is set/);
    setConfigForTests(testConfig(dataDir));

    expect(fs.readdirSync(dataDir).sort()).toEqual(["control.db", "master.key", "workspaces"]);
    expect(masterKeyOnDisk(dataDir)).toBe(oldKey.toString("hex"));
    for (const name of databaseFiles(dataDir)) expect(await openWith(dataDir, name, oldKey)).not.toBeNull();
  });

  it("a rotation cut short: no store opens over it, the server's start finishes it, and a retry after the final rename audits once", async () => {
    await seedRotationStore(4);
    const dataDir = store.dataDir();
    const oldKey = getStore().masterKey;
    const before = await digestDataDir(dataDir, oldKey);
    await closeStore();
    const { key: newKey, file } = newKeyFile();
    let seen = 0;
    const crash = () => {
      seen += 1;
      if (seen === 2) throw new Error("killed");
    };
    await expect(rotateMasterKey({ newKeyFile: file, onFile: crash })).rejects.toThrow("killed");
    expect(readJournal(dataDir)?.done).toHaveLength(2);
    expect(fs.statSync(path.join(dataDir, "rotation.json")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, "master.key.next")).mode & 0o777).toBe(0o600);
    // Neither key is written into the journal: only their ids.
    const journalText = fs.readFileSync(path.join(dataDir, "rotation.json"), "utf8");
    expect(journalText).not.toContain(newKey.toString("hex"));
    expect(journalText).not.toContain(oldKey.toString("hex"));

    // Whatever key a process has, the store refuses to open mid-rotation; so does a second rotation to another key.
    expect(() => getStore()).toThrow(MasterKeyError);
    expect(() => getStore()).toThrow(/rotation is under way.*enclave key rotate/);
    await closeStore();
    await expect(rotateMasterKey({ newKeyFile: newKeyFile().file })).rejects.toThrow(/a rotation to key mk_[0-9a-f]{16} is under way/);

    const steps: string[] = [];
    const finished = await finishInterruptedRotation((step) => steps.push(step.outcome));
    expect(finished).toMatchObject({ resumed: true, newKeyId: masterKeyId(newKey), files: 5 });
    expect(steps).toEqual(["rekeyed", "rekeyed", "rekeyed"]);
    expect(await finishInterruptedRotation()).toBeNull();
    expect((await digestDataDir(dataDir, newKey)).digests).toEqual(before.digests);

    // A crash after master.key was replaced but before the journal went: the retry finds every file and the audit row done.
    const stale = { ...(JSON.parse(journalText) as Record<string, unknown>), done: databaseFiles(dataDir), audited: false };
    fs.writeFileSync(path.join(dataDir, "rotation.json"), JSON.stringify(stale), { mode: 0o600 });
    expect(await rotateMasterKey({})).toMatchObject({ resumed: true, newKeyId: masterKeyId(newKey) });
    expect(await rotationRows()).toHaveLength(1);
    const final = await digestDataDir(dataDir, newKey);
    expect(Object.values(final.chains).every(Boolean)).toBe(true);
  });

  it("refuses a journal it did not write, and a master.key that is neither key of the rotation", async () => {
    await seedRotationStore(1);
    const dataDir = store.dataDir();
    await closeStore();
    const journal = path.join(dataDir, "rotation.json");
    fs.writeFileSync(journal, "{ not json", { mode: 0o600 });
    await expect(rotateMasterKey({})).rejects.toThrow(/not JSON/);
    fs.writeFileSync(journal, JSON.stringify({ version: 1, files: ["../../etc/passwd"] }), { mode: 0o600 });
    await expect(rotateMasterKey({})).rejects.toThrow(/not a rotation journal/);
    fs.rmSync(journal);

    const { file } = newKeyFile();
    await expect(rotateMasterKey({ newKeyFile: file, onFile: () => { throw new Error("killed"); } })).rejects.toThrow("killed");
    fs.writeFileSync(path.join(dataDir, "master.key"), randomBytes(32).toString("hex"));
    await expect(rotateMasterKey({})).rejects.toThrow(/neither the old key .* nor the new key/);
  });

  it("the CLI refuses under a running server and says why; a stale lease left by a crash does not block it", async () => {
    await seedRotationStore(1);
    const dataDir = store.dataDir();
    const oldKey = getStore().masterKey;
    await closeStore();
    const { key: newKey, file } = newKeyFile();

    const server = acquireLease(dataDir, "server");
    const refused = cli(dataDir, "key", "rotate", "--new-key-file", file);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`an Enclave server \\(pid ${process.pid}, since .*\\) is using this data dir: cannot rotate the master key now; stop the server first`));
    expect(masterKeyOnDisk(dataDir)).toBe(oldKey.toString("hex"));
    expect(fs.existsSync(path.join(dataDir, "rotation.json"))).toBe(false);
    // And the other way round: a server does not start while a rotation holds the lease.
    server.release();
    const rotation = acquireLease(dataDir, "key-rotation");
    expect(() => acquireLease(dataDir, "server")).toThrow(LeaseHeldError);
    expect(() => acquireLease(dataDir, "server")).toThrow(/`enclave key rotate` \(pid \d+.*cannot serve now/);
    rotation.release();
    expect(fs.existsSync(path.join(dataDir, LEASE_FILE))).toBe(false);

    // A crashed server's lease: its pid is gone. Another names a live pid with another start time (a pid reused after a reboot).
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const leaseFile = path.join(dataDir, LEASE_FILE);
    const reused = { pid: process.pid, processStart: `${processStartOf(process.pid) ?? "0"}1`, purpose: "server", since: "2026-01-01T00:00:00.000Z" };
    fs.writeFileSync(leaseFile, JSON.stringify(reused), { mode: 0o600 });
    expect(liveLeaseHolder(dataDir)).toBeNull();
    fs.writeFileSync(leaseFile, JSON.stringify({ ...reused, pid: dead, processStart: null }), { mode: 0o600 });
    expect(liveLeaseHolder(dataDir)).toBeNull();

    const rotated = cli(dataDir, "key", "rotate", "--new-key-file", file);
    expect(rotated.stderr).toBe("");
    expect(rotated.status).toBe(0);
    expect(rotated.stdout).toMatch(/\[1\/2\] control\.db: [0-9.]+ MB in \d+ ms/);
    expect(rotated.stdout).toContain(`master key rotated: ${masterKeyId(oldKey)} -> ${masterKeyId(newKey)}, 2 files re-keyed`);
    expect(rotated.stdout).toContain(`audit signing key id is now ${auditSigner(newKey).keyId}`);
    expect(rotated.stdout).not.toContain(newKey.toString("hex"));
    expect(fs.existsSync(leaseFile)).toBe(false);
    expect(masterKeyOnDisk(dataDir)).toBe(newKey.toString("hex"));

    const again = cli(dataDir, "key", "rotate");
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/no rotation is under way/);
  });

  it("the real server start: refuses while a rotation holds the lease, and refuses to finish one under ENCLAVE_MASTER_KEY, each with one line", async () => {
    await seedRotationStore(1);
    const dataDir = store.dataDir();
    const oldKey = getStore().masterKey;
    await closeStore();
    const startServer = (env: Record<string, string> = {}) => {
      const result = spawnSync(path.resolve("node_modules/.bin/tsx"), ["server.ts"], {
        env: { PATH: process.env.PATH, NODE_ENV: "production", ENCLAVE_PUBLIC_URL: "http://localhost:3998", PORT: "3998", ENCLAVE_DATA_DIR: dataDir, ...env },
        encoding: "utf8",
        timeout: 30_000,
      });
      return { status: result.status, stderr: result.stderr.trim() };
    };
    const rotation = acquireLease(dataDir, "key-rotation");
    const underRotation = startServer();
    rotation.release();
    expect(underRotation.status).toBe(1);
    expect(underRotation.stderr).toMatch(/^enclave: `enclave key rotate` \(pid \d+, since .*\) is using this data dir: cannot serve now; let it finish/);
    expect(underRotation.stderr.split("\n")).toHaveLength(1);

    const { file } = newKeyFile();
    await expect(rotateMasterKey({ newKeyFile: file, onFile: () => { throw new Error("killed"); } })).rejects.toThrow("killed");
    const withEnvKey = startServer({ ENCLAVE_MASTER_KEY: oldKey.toString("hex") });
    expect(withEnvKey.status).toBe(1);
    expect(withEnvKey.stderr).toMatch(/^enclave: ENCLAVE_MASTER_KEY is set, and a rotation cannot change the environment/);
    expect(readJournal(dataDir)?.done).toHaveLength(1);
    expect(fs.existsSync(path.join(dataDir, LEASE_FILE))).toBe(false);
  });
});
