/**
 * npm run bench:storage — what encryption costs, measured side by side in one run through the
 * same driver (@journeyapps/sqlcipher): a workspace file opened with its raw HKDF key (the
 * production path, lib/db/connection.ts) against a plain SQLite file opened with the same
 * pragmas. "Cold open" is a new connection on an existing file (the OS page cache is warm):
 * what an LRU miss costs the server.
 *
 * The plain side mirrors Connection.open's steps minus the key (openPlain below) instead of
 * going through Connection: production code has, on purpose, no switch that opens a database
 * without encryption. Inserts and reads use the same raw driver calls on both sides.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sqlite3 from "@journeyapps/sqlcipher";
import { Connection } from "../lib/db/connection";
import { deriveWorkspaceKey } from "../lib/crypto/keys";

type Db = Pick<Connection, "all" | "run" | "exec" | "close">;

const OPENS = 50;
const INSERTS = 10_000;
const BATCH = 100;
const READS = 1_000;
const ROUNDS = 3;

/** The driver's calls, as Connection makes them, on a connection with no key set yet. */
async function openRaw(file: string): Promise<Db> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle: sqlite3.Database = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(handle)));
  });
  return {
    all: (sql, params = []) =>
      new Promise((resolve, reject) =>
        db.all(sql, params, (e: Error | null, rows: Record<string, unknown>[]) => (e ? reject(e) : resolve(rows))),
      ),
    run: (sql, params = []) =>
      new Promise((resolve, reject) =>
        db.run(sql, params, function (this: sqlite3.RunResult, e: Error | null) {
          if (e) reject(e);
          else resolve({ changes: this.changes, lastID: this.lastID });
        }),
      ),
    exec: (sql) => new Promise((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve, reject) => db.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** The plain-SQLite baseline: Connection.open's steps minus the key. */
async function openPlain(file: string): Promise<Db> {
  const db = await openRaw(file);
  await db.all("SELECT count(*) AS n FROM sqlite_master");
  for (const pragma of ["journal_mode = WAL", "secure_delete = ON", "foreign_keys = ON", "busy_timeout = 5000"]) {
    await db.exec(`PRAGMA ${pragma}`);
  }
  return db;
}

const PASSPHRASE = "PRAGMA key = 'a passphrase runs PBKDF2 on every open'";

async function openPassphrase(file: string): Promise<Db> {
  const db = await openRaw(file);
  await db.exec(PASSPHRASE);
  await db.all("SELECT count(*) AS n FROM sqlite_master");
  return db;
}

const SQLITE_HEADER = "SQLite format 3\0";

/** A comparison of SQLCipher with itself would look great: check what each side really wrote. */
function assertEncryption(file: string, encrypted: boolean): void {
  const plain = fs.readFileSync(file).subarray(0, 16).toString("latin1") === SQLITE_HEADER;
  if (plain === encrypted) throw new Error(`${file} is ${plain ? "plain SQLite" : "encrypted"}, which this benchmark did not intend`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function writeAndRead(db: Db): Promise<{ writeMs: number; readMs: number }> {
  await db.exec("CREATE TABLE kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, v TEXT NOT NULL)");
  const writeMs = await time(async () => {
    for (let i = 0; i < INSERTS; i += BATCH) {
      await db.exec("BEGIN IMMEDIATE");
      for (let j = i; j < i + BATCH; j++) await db.run("INSERT INTO kv (k, v) VALUES (?, ?)", [`key-${j}`, `value ${j} `.repeat(8)]);
      await db.exec("COMMIT");
    }
  });
  const keys = Array.from({ length: READS }, () => `key-${Math.floor(Math.random() * INSERTS)}`);
  const readMs = await time(async () => {
    for (const key of keys) {
      const rows = await db.all("SELECT v FROM kv WHERE k = ?", [key]);
      if (rows.length !== 1) throw new Error(`missing ${key}`);
    }
  });
  return { writeMs, readMs };
}

async function coldOpens(open: () => Promise<Db>, count: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    let db: Db | undefined;
    samples.push(await time(async () => (db = await open())));
    await db?.close();
  }
  return median(samples);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-"));
  const workspaceId = `ws_${randomBytes(16).toString("hex")}`;
  const key = deriveWorkspaceKey(randomBytes(32), workspaceId);
  const cipherFile = path.join(dir, "cipher.db");
  const plainFile = path.join(dir, "plain.db");
  const passphraseFile = path.join(dir, "passphrase.db");
  try {
    // Warm both paths once (driver load, first file creation) before measuring anything.
    await (await Connection.open(path.join(dir, "warm.db"), key, { create: true })).close();

    // Alternate the two sides over a few rounds and keep medians, so neither always runs warm.
    const cipherRuns: { writeMs: number; readMs: number }[] = [];
    const plainRuns: { writeMs: number; readMs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cipher = await Connection.open(`${cipherFile}.${round}`, key, { create: true });
      cipherRuns.push(await writeAndRead(cipher));
      await cipher.close();
      const plain = await openPlain(`${plainFile}.${round}`);
      plainRuns.push(await writeAndRead(plain));
      await plain.close();
    }
    const summarize = (runs: typeof cipherRuns) => ({ writeMs: median(runs.map((r) => r.writeMs)), readMs: median(runs.map((r) => r.readMs)) });
    const [cipherRun, plainRun] = [summarize(cipherRuns), summarize(plainRuns)];
    fs.copyFileSync(`${cipherFile}.0`, cipherFile);
    fs.copyFileSync(`${plainFile}.0`, plainFile);
    assertEncryption(cipherFile, true);
    assertEncryption(plainFile, false);

    const passphraseSeed = await openRaw(passphraseFile);
    await passphraseSeed.exec(PASSPHRASE);
    await passphraseSeed.exec("CREATE TABLE t (x)");
    await passphraseSeed.close();
    assertEncryption(passphraseFile, true);

    const cipherOpen = await coldOpens(() => Connection.open(cipherFile, key, { create: false }), OPENS);
    const plainOpen = await coldOpens(() => openPlain(plainFile), OPENS);
    const passphraseOpen = await coldOpens(() => openPassphrase(passphraseFile), 5);

    const row = (what: string, c: number, p: number, target: string) =>
      `| ${what} | ${c.toFixed(2)} | ${p.toFixed(2)} | ${(c / p).toFixed(2)}× | ${target} |`;
    const mixCipher = cipherRun.writeMs + cipherRun.readMs;
    const mixPlain = plainRun.writeMs + plainRun.readMs;
    console.log(`storage benchmark — node ${process.version}, ${os.cpus().length} cores, SQLCipher ${(await probeVersion(key, dir)) ?? "?"}`);
    console.log("");
    console.log("| measure | SQLCipher, raw key (ms) | plain SQLite (ms) | ratio | target |");
    console.log("|---|---:|---:|---:|---|");
    console.log(row(`cold open, median of ${OPENS}`, cipherOpen, plainOpen, `≤ 5 ms: ${cipherOpen <= 5 ? "met" : "MISSED"}`));
    console.log(row(`${INSERTS} inserts (${BATCH} per transaction), median of ${ROUNDS}`, cipherRun.writeMs, plainRun.writeMs, ""));
    console.log(row(`${READS} indexed point reads, median of ${ROUNDS}`, cipherRun.readMs, plainRun.readMs, ""));
    console.log(row("read+write mix", mixCipher, mixPlain, `≤ 1.25×: ${mixCipher / mixPlain <= 1.25 ? "met" : "MISSED"}`));
    console.log("");
    console.log(`for context: a passphrase-keyed open (PBKDF2, SQLCipher's default KDF) takes ${passphraseOpen.toFixed(1)} ms, median of 5 — why keys are raw.`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function probeVersion(key: Buffer, dir: string): Promise<string | undefined> {
  const db = await Connection.open(path.join(dir, "probe.db"), key, { create: true });
  const [row] = await db.all("PRAGMA cipher_version");
  await db.close();
  return row?.cipher_version as string | undefined;
}

await main();
