/**
 * npm run bench:backup — a nightly backup of many small workspaces and one big one, in one run:
 *
 *   1. seeds a temp data dir through the lib: one workspace of searchable knowledge (the bench
 *      corpus, BENCH_SEARCH_ENTRIES entries), BENCH_WORKSPACES workspaces of ~BENCH_WORKSPACE_MB
 *      each and one of ~BENCH_BIG_MB (random-byte artifacts: neither SQLite nor age can shrink
 *      them, as with real encrypted pages);
 *   2. times `cp -r` of the same files (control.db and workspaces/) into the same file system;
 *   3. measures search p99 idle: BENCH_SEARCH_CONCURRENCY callers of searchKnowledge in this
 *      process, back to back, for BENCH_IDLE_SECONDS;
 *   4. runs runBackup() in this process — the process a server would be — to a directory beside
 *      the data dir (or, with BENCH_TARGET=s3, to s3rver on loopback, test/s3-server.ts),
 *      sampling this process's RSS every 20 ms and running the same searches throughout.
 *
 * Prints one table: backup MB/s (plaintext bytes of every database / wall time) beside cp's,
 * RSS before and at its peak during the backup, and search p50/p99 idle and during.
 * Defaults are the issue's: 1,000 × 1 MB + 500 MB. A quick run:
 *   BENCH_WORKSPACES=50 BENCH_BIG_MB=50 npm run bench:backup
 * BENCH_KEEP=1 keeps the temp dir. Not part of CI. The machine's other load shows in every figure.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { eq } from "drizzle-orm";
import { memberships } from "../db/control/schema";
import { artifacts } from "../db/workspace/schema";
import { authorize } from "../lib/access/authorize";
import { createUser } from "../lib/auth/users";
import { runBackup } from "../lib/backup/backup";
import { DirectoryTarget } from "../lib/backup/directory-target";
import { s3Target } from "../lib/backup/s3-target";
import type { BackupTarget } from "../lib/backup/target";
import { parseConfig, setConfigForTests } from "../lib/config";
import { closeStore, getControlDb, getStore, withWorkspace } from "../lib/db/store";
import { logger } from "../lib/log/logger";
import { searchKnowledge } from "../lib/workspace/search";
import { createWorkspace } from "../lib/workspace/workspaces";
import { startS3Server, type TestS3Server } from "../test/s3-server";
import { buildVocabulary } from "./bench/corpus";
import { percentile } from "./bench/harness";
import { seedWorkspace } from "./bench/seed";

const envNumber = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const WORKSPACES = envNumber("BENCH_WORKSPACES", 1000);
const WORKSPACE_MB = envNumber("BENCH_WORKSPACE_MB", 1);
const BIG_MB = envNumber("BENCH_BIG_MB", 500);
const SEARCH_ENTRIES = envNumber("BENCH_SEARCH_ENTRIES", 5000);
const SEARCH_CONCURRENCY = envNumber("BENCH_SEARCH_CONCURRENCY", 2);
const IDLE_SECONDS = envNumber("BENCH_IDLE_SECONDS", 10);
const TARGET = process.env.BENCH_TARGET ?? "directory";
const MASTER_KEY = "b4c7b4c7ffee0ddba11ca7f00d5eed1eb4c7b4c7ffee0ddba11ca7f00d5eed1e";
const ARTIFACT_BYTES = 4 * 1024 * 1024;
const MB = 1e6;

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

/** Random-byte artifacts adding up to `bytes` (the last one shorter), in one transaction each. */
async function fill(workspaceId: string, bytes: number): Promise<void> {
  for (let n = 0, left = bytes; left > 0; n += 1, left -= ARTIFACT_BYTES) {
    const body = randomBytes(Math.min(left, ARTIFACT_BYTES));
    const now = Date.now();
    const row = { name: `blob-${n}.bin`, contentType: "application/octet-stream", bytes: body, size: body.length, sha256: createHash("sha256").update(body).digest("hex"), createdAt: now, updatedAt: now, updatedBy: "user:bench" };
    await withWorkspace(workspaceId, (db) => db.transaction(async (tx) => void (await tx.insert(artifacts).values(row))));
  }
}

function filesOf(dataDir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const paths = [path.join(dataDir, "control.db"), ...fs.readdirSync(path.join(dataDir, "workspaces")).map((id) => path.join(dataDir, "workspaces", id, "workspace.db"))];
  for (const file of paths) {
    files += 1;
    bytes += fs.statSync(file).size;
  }
  return { files, bytes };
}

/** `cp -r` of control.db and workspaces/ into `out` (same file system), wall seconds. */
function timedCp(dataDir: string, out: string): number {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  const started = performance.now();
  const result = spawnSync("cp", ["-r", path.join(dataDir, "control.db"), path.join(dataDir, "workspaces"), out], { encoding: "utf8" });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`cp failed: ${result.stderr}`);
  fs.rmSync(out, { recursive: true, force: true });
  return seconds;
}

/** Searches back to back by `concurrency` callers until `until` settles; latencies in ms. */
async function searchesUntil(until: Promise<unknown>, concurrency: number, search: (i: number) => Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done) {
        const t0 = performance.now();
        await search(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  logger.level = "error";
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-backup-"));
  const dataDir = path.join(work, "data");
  const backupDir = path.join(work, "backups");
  let s3: TestS3Server | undefined;
  let ok = false;
  try {
    console.log(`seeding: ${WORKSPACES} workspaces of ~${WORKSPACE_MB} MB, one of ~${BIG_MB} MB, one of ${SEARCH_ENTRIES} knowledge entries (${work})`);
    const seedStarted = performance.now();
    const vocabulary = buildVocabulary();
    const seeded = await seedWorkspace({ dataDir, masterKey: MASTER_KEY, entries: SEARCH_ENTRIES, role: "viewer", vocabulary });
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_MASTER_KEY: MASTER_KEY, ENCLAVE_BACKUP_DIR: backupDir, ENCLAVE_BACKUP_RECIPIENTS: recipient, ENCLAVE_MAX_WORKSPACES_PER_USER: String(WORKSPACES + 10), LOG_LEVEL: "error" }));
    await getStore().control;
    const owner = await createUser({ email: "bench-owner@example.com", password: "correct horse battery staple" });
    const big = await createWorkspace({ type: "user", userId: owner.id }, "Big");
    await fill(big.id, BIG_MB * MB);
    for (let i = 0; i < WORKSPACES; i += 1) {
      const workspace = await createWorkspace({ type: "user", userId: owner.id }, `Team ${i}`);
      // An empty workspace file is already ~0.2 MB (schema, FTS tables): fill up to the size asked.
      await fill(workspace.id, Math.max(0, WORKSPACE_MB * MB - 200_000));
      if ((i + 1) % 100 === 0) console.log(`  ${i + 1}/${WORKSPACES} workspaces`);
    }
    const seededIn = (performance.now() - seedStarted) / 1000;
    // The backup snapshots files, so every write must be in them: close the handles (checkpointing the WALs).
    await closeStore();
    await getStore().control;
    const { files, bytes } = filesOf(dataDir);
    console.log(`seeded in ${fmt(seededIn, 0)} s: ${files} database files, ${fmt(bytes / MB)} MB`);

    const cpSeconds = timedCp(dataDir, path.join(work, "cp-copy"));

    let target: BackupTarget;
    if (TARGET === "s3") {
      s3 = await startS3Server();
      await s3.createBucket("bench");
      target = s3Target(parseConfig({ ENCLAVE_DATA_DIR: dataDir, ...s3.env("bench") }));
    } else target = new DirectoryTarget(backupDir);

    const access = await authorizeOwner(seeded.workspaceId);
    const queries = seeded.queries;
    const search = (i: number) => searchKnowledge(access, { q: queries[i % queries.length]!.q, limit: 20 });
    for (let i = 0; i < 50; i += 1) await search(i); // warm the handle and the page cache

    const idle = await searchesUntil(sleep(IDLE_SECONDS * 1000), SEARCH_CONCURRENCY, search);

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const started = performance.now();
    const backup = runBackup({ now: Date.now(), target });
    const during = await searchesUntil(backup, SEARCH_CONCURRENCY, search);
    const result = await backup;
    const backupSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);

    const rows: [string, string][] = [
      ["databases", `${files} files, ${fmt(bytes / MB)} MB (${WORKSPACES} × ~${WORKSPACE_MB} MB + ~${BIG_MB} MB + search + control)`],
      ["backup target", target.description],
      ["backup", `${fmt(backupSeconds)} s, ${fmt(bytes / MB / backupSeconds)} MB/s (${result.files} files, ${fmt(result.bytes / MB)} MB of age ciphertext)`],
      ["cp -r, same files", `${fmt(cpSeconds)} s, ${fmt(bytes / MB / cpSeconds)} MB/s`],
      ["backup / cp time", `${fmt(backupSeconds / cpSeconds)} ×`],
      ["RSS before → peak during", `${fmt(rssBefore / 2 ** 20, 0)} MiB → ${fmt(rssPeak / 2 ** 20, 0)} MiB (+${fmt((rssPeak - rssBefore) / 2 ** 20, 0)} MiB)`],
      [`search idle (${SEARCH_CONCURRENCY} callers)`, `p50 ${fmt(percentile(idle, 50), 2)} ms, p99 ${fmt(percentile(idle, 99), 2)} ms (${idle.length} searches in ${IDLE_SECONDS} s)`],
      ["search during backup", `p50 ${fmt(percentile(during, 50), 2)} ms, p99 ${fmt(percentile(during, 99), 2)} ms (${during.length} searches in ${fmt(backupSeconds)} s)`],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log("");
    for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
    console.log(`\n(node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((n) => fmt(n)).join(" ")})`);
    ok = true;
  } finally {
    await closeStore().catch(() => undefined);
    await s3?.stop();
    if (process.env.BENCH_KEEP === "1") console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
    if (!ok) process.exitCode = 1;
  }
}

/** Search access as the workspace's owner (the seed's team token is for the HTTP benches). */
async function authorizeOwner(workspaceId: string) {
  const control = await getControlDb();
  const [member] = await control.db.select().from(memberships).where(eq(memberships.workspaceId, workspaceId)).limit(1);
  if (!member) throw new Error("the search workspace has no member");
  return authorize({ kind: "user", userId: member.userId }, workspaceId, "search");
}

await main();
