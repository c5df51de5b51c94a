/**
 * npm run bench:scale — the single-node ceiling: N workspaces (BENCH_WORKSPACES, default 10,000)
 * created through the lib with a little data each (BENCH_ENTRIES knowledge entries, default 5),
 * then touched through the store as requests touch them, with ENCLAVE_WORKSPACE_CACHE_SIZE
 * (BENCH_CACHE, default the server's 256) handles kept. Prints, as it goes and at the end: RSS,
 * open file descriptors (/proc/self/fd) and how many of them are workspace files, the number of
 * workspace handles open, and the latency of a touch on a warm (cached) workspace beside a cold
 * one (evicted: the file is opened, keyed and its migrations checked again).
 *
 * BENCH_DIR keeps the data dir (and its master key in BENCH_DIR/bench.key) instead of a temporary
 * one, so a second run can reuse it with another cache size without creating everything again.
 * The figures are in docs/decisions/014-beyond-one-node.md.
 */
import { randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { knowledge, type KnowledgeRow } from "../db/workspace/schema";
import { createUser } from "../lib/auth/users";
import { parseConfig, setConfigForTests } from "../lib/config";
import { randomId } from "../lib/crypto/ids";
import { closeStore, getStore, withWorkspace } from "../lib/db/store";
import { createWorkspace, listAllWorkspaces } from "../lib/workspace/workspaces";

const N = Number(process.env.BENCH_WORKSPACES ?? 10_000);
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 5);
const CACHE = Number(process.env.BENCH_CACHE ?? 256);
const TOUCHES = Number(process.env.BENCH_TOUCHES ?? 2_000);
const CREATE_CONCURRENCY = 4;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** What the process holds right now: memory, descriptors, and which of them are workspace files. */
function footprint(): { rssMb: number; heapMb: number; fds: number; workspaceFds: number; openWorkspaces: number } {
  const names = fs.readdirSync("/proc/self/fd");
  const workspaceDirs = new Set<string>();
  let workspaceFds = 0;
  for (const name of names) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the descriptor readdir itself used, closed since
    }
    const match = /\/workspaces\/(ws_[0-9a-f]{32})\/workspace\.db/.exec(target);
    if (match?.[1]) {
      workspaceFds += 1;
      workspaceDirs.add(match[1]);
    }
  }
  const memory = process.memoryUsage();
  return { rssMb: memory.rss / 2 ** 20, heapMb: memory.heapUsed / 2 ** 20, fds: names.length, workspaceFds, openWorkspaces: workspaceDirs.size };
}

const show = (f: ReturnType<typeof footprint>) =>
  `RSS ${f.rssMb.toFixed(0)} MB (JS heap ${f.heapMb.toFixed(0)} MB), ${f.fds} fds of which ${f.workspaceFds} workspace files, ${f.openWorkspaces} workspace handles open`;

function dataDirAndKey(): { dataDir: string; masterKey: string; keep: boolean } {
  const kept = process.env.BENCH_DIR;
  if (!kept) return { dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "enclave-scale-")), masterKey: randomBytes(32).toString("hex"), keep: false };
  fs.mkdirSync(kept, { recursive: true, mode: 0o700 });
  const keyFile = path.join(kept, "bench.key");
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
  return { dataDir: path.join(kept, "data"), masterKey: fs.readFileSync(keyFile, "utf8").trim(), keep: true };
}

function entriesFor(author: string): KnowledgeRow[] {
  const now = Date.now();
  return Array.from({ length: ENTRIES }, (_, i) => ({
    id: randomId("kn"),
    title: `Runbook note ${i}`,
    body: `Deploy step ${i}: rotate the staging credentials, then check the ${randomBytes(4).toString("hex")} dashboard. `.repeat(8),
    tags: JSON.stringify(["ops", `step-${i}`]),
    source: null,
    author,
    createdAt: now,
    updatedAt: now,
    version: 1,
  }));
}

async function createWorkspaces(existing: string[]): Promise<string[]> {
  const ids = [...existing];
  if (ids.length >= N) return ids.slice(0, N);
  const owner = await createUser({ email: `scale-${randomBytes(4).toString("hex")}@example.com`, password: "correct horse battery staple" });
  const started = performance.now();
  let next = ids.length;
  const worker = async () => {
    while (next < N) {
      const index = next++;
      const workspace = await createWorkspace({ type: "operator", ownerId: owner.id }, `Scale ${index}`);
      await withWorkspace(workspace.id, (db) => db.transaction(async (tx) => void (await tx.insert(knowledge).values(entriesFor(`user:${owner.id}`)))));
      ids.push(workspace.id);
      if (ids.length % 500 === 0) {
        const seconds = (performance.now() - started) / 1000;
        console.log(`created ${ids.length}/${N} in ${seconds.toFixed(0)} s (${((ids.length - existing.length) / seconds).toFixed(1)}/s); ${show(footprint())}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  console.log(`created ${N - existing.length} workspaces in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return ids;
}

/** One request's worth of work on a workspace: open (or reuse) its handle and read from it. */
async function touch(id: string): Promise<number> {
  const start = performance.now();
  await withWorkspace(id, (db) => db.rows("SELECT id, title FROM knowledge ORDER BY updated_at DESC LIMIT 5"));
  return performance.now() - start;
}

async function main(): Promise<void> {
  const { dataDir, masterKey, keep } = dataDirAndKey();
  setConfigForTests(
    parseConfig({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_MASTER_KEY: masterKey, ENCLAVE_WORKSPACE_CACHE_SIZE: String(CACHE), LOG_LEVEL: "warn" }),
  );
  console.log(`scale benchmark — node ${process.version}, ${os.cpus().length} cores, ${N} workspaces × ${ENTRIES} entries, cache ${CACHE} handles`);
  try {
    await getStore().control;
    const baseline = footprint();
    console.log(`empty store: ${show(baseline)}`);
    const existing = (await listAllWorkspaces()).map((workspace) => workspace.id);
    const ids = await createWorkspaces(existing);
    const bytes = ids.reduce((sum, id) => sum + fs.statSync(path.join(dataDir, "workspaces", id, "workspace.db")).size, 0);
    console.log(`on disk: ${(bytes / 2 ** 20).toFixed(0)} MB of workspace files (${(bytes / ids.length / 1024).toFixed(0)} KiB each)`);

    // Every workspace once, in order: the cache fills and then evicts on every touch.
    const sweepStart = performance.now();
    for (const id of ids) await touch(id);
    const sweepSeconds = (performance.now() - sweepStart) / 1000;
    const afterSweep = footprint();
    console.log(`sweep of all ${ids.length}: ${sweepSeconds.toFixed(1)} s (${(ids.length / sweepSeconds).toFixed(0)} touches/s); ${show(afterSweep)}`);

    // Warm: the last CACHE/2 swept are all cached; cold: uniformly random over N, so nearly every one was evicted.
    const hot = ids.slice(-Math.max(1, Math.floor(CACHE / 2)));
    const warm: number[] = [];
    for (let i = 0; i < TOUCHES; i++) warm.push(await touch(hot[i % hot.length]!));
    const cold: number[] = [];
    for (let i = 0; i < TOUCHES; i++) cold.push(await touch(ids[randomInt(ids.length)]!));
    const line = (name: string, samples: number[]) =>
      `| ${name} | ${samples.length} | ${pct(samples, 50).toFixed(2)} | ${pct(samples, 95).toFixed(2)} | ${pct(samples, 99).toFixed(2)} |`;
    const end = footprint();
    console.log("");
    console.log("| touch | n | p50 ms | p95 ms | p99 ms |");
    console.log("|---|---:|---:|---:|---:|");
    console.log(line(`warm (one of ${hot.length} cached)`, warm));
    console.log(line(`random over ${ids.length} (cache ${CACHE}: ~${Math.min(100, (100 * CACHE) / ids.length).toFixed(1)}% hit)`, cold));
    console.log("");
    console.log(`at the end: ${show(end)}`);
    console.log(`growth over the empty store: RSS +${(end.rssMb - baseline.rssMb).toFixed(0)} MB, +${end.fds - baseline.fds} fds`);
  } finally {
    await closeStore();
    if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
