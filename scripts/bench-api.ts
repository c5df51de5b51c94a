/**
 * npm run bench:api — what the REST API costs on top of the storage layer, measured in one run:
 *
 *   1. seeds a temp data dir through the lib (one user, one workspace, a member token and
 *      10,000 knowledge entries of seeded pseudo-random text), then closes the store;
 *   2. starts the real server (`NODE_ENV=production tsx server.ts`, the production build) as a
 *      child process and drives it with autocannon: full-text search and knowledge writes, at 1
 *      and 50 connections;
 *   3. stops the server, restores the workspace file to its seeded state, and runs the same
 *      searches (`searchKnowledge`) and writes (`createKnowledge`) in-process, with 1 and 50
 *      concurrent async callers, as the baseline;
 *   4. shows that a bearer-token check is one indexed lookup (EXPLAIN QUERY PLAN, and its
 *      cost with 1 token against 10,000).
 *
 * It also times GET /api/health on the same server (the cheapest route: what the request path
 * itself costs) against its floor, plain node:http answering the same JSON
 * (scripts/bench/bare-health.ts); the same writes on a second server with billing on (a plans
 * file with generous limits, so every write runs the plan and storage checks and none is
 * refused); and searchKnowledge per query term (the cost grows with the matches). The targets
 * of issue 14 are printed with each ratio.
 *
 * BENCH_SECONDS (default 10) sets the length of every measured run; BENCH_KEEP=1 keeps the temp
 * data dir. The per-IP API rate limit is lifted for the server under test
 * (ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE), or it would be the brake being measured. Needs a
 * production build; runs `next build` first when there is none.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type autocannon from "autocannon";
import { buildVocabulary, corpusGenerator, type Text } from "./bench/corpus";
import { seedWorkspace } from "./bench/seed";
import { closedLoop, ensureBuild, killServers, percentile, runCannon, ServerProcess, tail, type HttpStats, type Stats } from "./bench/harness";
import { teamTokens } from "../db/control/schema";
import { authorize } from "../lib/access/authorize";
import { resolveTeamToken, teamTokenLookup as tokenLookup } from "../lib/access/bearer";
import { parseConfig, setConfigForTests } from "../lib/config";
import { randomId } from "../lib/crypto/ids";
import { hashSecret, mintSecret } from "../lib/crypto/secrets";
import { closeStore, getControlDb, getStore } from "../lib/db/store";
import { logger } from "../lib/log/logger";
import { createKnowledge } from "../lib/workspace/knowledge";
import { searchKnowledge } from "../lib/workspace/search";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Math.min(3, Math.max(1, SECONDS / 3));
const ENTRIES = 10_000;
const EXTRA_TOKENS = 10_000;
const CONNECTIONS = [1, 50] as const;
const TARGET_P50_MS = 10;
const FLOOR_SECONDS = Math.min(5, SECONDS);
// Fixed, so a failed run's data dir can be opened again by hand (it is removed on success).
const MASTER_KEY = "5eb1e5c0ffee0ddba11ca7f00d5eed1e5eb1e5c0ffee0ddba11ca7f00d5eed1e";
const SYNC_RATE_LIMIT = 100_000_000;
// Issue 14's targets: the HTTP path against its in-process (or bare node:http) floor, by connections.
const TARGETS: Record<string, Record<number, number>> = { health: { 1: 0.3, 50: 0.3 }, search: { 1: 0.7, 50: 0.9 }, write: { 1: 0.6, 50: 0.6 }, "billing-write": { 1: 0.6, 50: 0.6 } };

if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error(`BENCH_SECONDS must be a positive number, not ${process.env.BENCH_SECONDS}`);

async function main(): Promise<void> {
  logger.level = "error";
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-api-"));
  const logFile = path.join(dataDir, "server.log");
  let ok = false;
  let seededWorkspace = "";
  try {
    await ensureBuild(path.join(dataDir, "build.log"));

    const vocabulary = buildVocabulary();
    const seeded = await seedWorkspace({ dataDir: path.join(dataDir, "data"), masterKey: MASTER_KEY, entries: ENTRIES, role: "member", vocabulary });
    const { workspaceId, token, queries } = seeded;
    seededWorkspace = workspaceId;
    const workspaceDir = path.join(dataDir, "data", "workspaces", workspaceId);
    const snapshotDir = path.join(dataDir, "snapshot");
    fs.cpSync(workspaceDir, snapshotDir, { recursive: true });
    const fileMb = fs.statSync(path.join(workspaceDir, "workspace.db")).size / 1e6;
    console.error(`seeded ${ENTRIES} entries (${seeded.words} words) in ${seeded.seedSeconds.toFixed(1)} s; starting the server…`);

    const writeTexts = Array.from({ length: 64 }, corpusGenerator(vocabulary, 4242));
    const headers = { authorization: `Bearer ${token}` };
    const searchPath = (q: string) => `/api/v1/workspaces/${workspaceId}/search?q=${encodeURIComponent(q)}&limit=20`;
    const knowledgePath = `/api/v1/workspaces/${workspaceId}/knowledge`;

    // ---- 1. the server ----
    const server = await ServerProcess.start(path.join(dataDir, "data"), logFile, {
      ENCLAVE_MASTER_KEY: MASTER_KEY,
      ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: String(SYNC_RATE_LIMIT),
    });
    const http: Record<string, HttpStats> = {};
    const floor: Record<number, HttpStats> = {};
    const loadBefore = os.loadavg()[0] ?? NaN;
    try {
      // Every query finds something before anything is timed.
      for (const { q } of queries) {
        const response = await fetch(server.url + searchPath(q), { headers });
        const body = (await response.json()) as { results?: unknown[] };
        if (response.status !== 200 || !body.results?.length) throw new Error(`search "${q}" gave ${response.status} with ${body.results?.length ?? 0} results`);
      }

      const searchRequests: autocannon.Request[] = queries.map(({ q }) => ({ method: "GET", path: searchPath(q) }));
      const writeRequests: autocannon.Request[] = writeTexts.map((text) => ({ method: "POST", path: knowledgePath, body: JSON.stringify(text) }));
      const cannon = (requests: autocannon.Request[], connections: number, duration: number, extraHeaders: Record<string, string> = {}) =>
        runCannon({ url: server.url, connections, duration, requests, headers: { ...headers, ...extraHeaders } });

      console.error(`warming up (${WARMUP_SECONDS}s), then search for ${SECONDS}s at ${CONNECTIONS.join(" and ")} connections…`);
      await cannon(searchRequests, 10, WARMUP_SECONDS);
      for (const c of CONNECTIONS) http[`search/${c}`] = await cannon(searchRequests, c, SECONDS);
      console.error(`warming up, then writes…`);
      const probe = await fetch(server.url + knowledgePath, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(writeTexts[0]),
      });
      if (probe.status !== 201) throw new Error(`POST knowledge gave ${probe.status}: ${await probe.text()}`);
      const json = { "content-type": "application/json" };
      await cannon(writeRequests, 10, WARMUP_SECONDS, json);
      for (const c of CONNECTIONS) http[`write/${c}`] = await cannon(writeRequests, c, SECONDS, json);
      // The cheapest route through the same server (no token, one trivial await).
      for (const c of CONNECTIONS) {
        http[`health/${c}`] = await runCannon({ url: server.url, connections: c, duration: FLOOR_SECONDS, requests: [{ method: "GET", path: "/api/health" }] });
      }
    } finally {
      await server.stop();
    }
    // Its floor: plain node:http answering the same JSON.
    const bare = await ServerProcess.start(path.join(dataDir, "data"), path.join(dataDir, "bare.log"), {}, { script: "scripts/bench/bare-health.ts" });
    try {
      for (const c of CONNECTIONS) floor[c] = await runCannon({ url: bare.url, connections: c, duration: FLOOR_SECONDS, requests: [{ method: "GET", path: "/api/health" }] });
    } finally {
      await bare.stop();
    }
    // The same writes with billing on: every write reads the plan in force and counts the pages in use first.
    const plansFile = path.join(dataDir, "plans.json");
    const generous = { members: 1_000, storageMb: 100_000, teamTokens: 1_000, aiClients: 1_000 };
    const price = { amount: 0, currency: "INR", interval: "month" };
    fs.writeFileSync(plansFile, JSON.stringify({ plans: [{ id: "free", name: "Free", razorpayPlanId: null, price, limits: generous }] }));
    const billed = await ServerProcess.start(path.join(dataDir, "data"), path.join(dataDir, "billing.log"), {
      ENCLAVE_MASTER_KEY: MASTER_KEY,
      ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: String(SYNC_RATE_LIMIT),
      // Nothing here may call Razorpay: the keys are made up and the jobs (its cancellation retries) are off.
      ENCLAVE_JOBS: "off",
      RAZORPAY_KEY_ID: "rzp_test_benchmark0000",
      RAZORPAY_KEY_SECRET: "bench-secret-not-real",
      RAZORPAY_WEBHOOK_SECRET: "bench-webhook-not-real",
      RAZORPAY_API_URL: "http://127.0.0.1:9",
      ENCLAVE_PLANS_FILE: plansFile,
    });
    try {
      console.error(`writes with billing on…`);
      const writeRequests: autocannon.Request[] = writeTexts.map((text) => ({ method: "POST", path: knowledgePath, body: JSON.stringify(text) }));
      const json = { ...headers, "content-type": "application/json" };
      await runCannon({ url: billed.url, connections: 10, duration: WARMUP_SECONDS, requests: writeRequests, headers: json });
      for (const c of CONNECTIONS) http[`billing-write/${c}`] = await runCannon({ url: billed.url, connections: c, duration: SECONDS, requests: writeRequests, headers: json });
    } finally {
      await billed.stop();
    }
    const slowQueries = (fs.readFileSync(logFile, "utf8").match(/"msg":"slow query"/g) ?? []).length;
    const bareFloor: Record<string, Stats> = Object.fromEntries(CONNECTIONS.map((c) => [`health/${c}`, floor[c] as Stats]));

    // ---- 2. the baseline, in-process, on the workspace file as it was seeded ----
    fs.rmSync(workspaceDir, { recursive: true, force: true });
    fs.cpSync(snapshotDir, workspaceDir, { recursive: true });
    setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: path.join(dataDir, "data"), ENCLAVE_MASTER_KEY: MASTER_KEY }));
    await getStore().control;
    const base: Record<string, Stats> = {};
    console.error(`baseline: searchKnowledge and createKnowledge in-process…`);
    const principal = await resolveTeamToken(token);
    if (!principal) throw new Error("the member token does not resolve");
    const reader = await authorize(principal, workspaceId, "search");
    const search = (i: number) => searchKnowledge(reader, { q: queries[i % queries.length]?.q ?? "", limit: 20 });
    await closedLoop(10, WARMUP_SECONDS / 2, search);
    for (const c of CONNECTIONS) base[`search/${c}`] = await closedLoop(c, SECONDS, search);
    // Search cost by how many entries a term matches (1 caller, median of 9, on the seeded file).
    const perTerm: { q: string; df: number; ms: number }[] = [];
    for (const { q, df } of queries) {
      const samples: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        await searchKnowledge(reader, { q, limit: 20 });
        samples.push(performance.now() - t0);
      }
      perTerm.push({ q, df, ms: percentile(samples.sort((a, b) => a - b), 50) });
    }
    const access = await authorize(principal, workspaceId, "knowledge");
    const write = (i: number) => createKnowledge(access, { ...(writeTexts[i % writeTexts.length] as Text), source: null });
    await closedLoop(10, WARMUP_SECONDS / 2, write);
    for (const c of CONNECTIONS) base[`write/${c}`] = await closedLoop(c, SECONDS, write);

    // ---- 3. the token check ----
    const tokenCheck = await measureTokenCheck(token, workspaceId);
    await closeStore();

    // ---- report ----
    const cpus = os.cpus();
    console.log(
      `API benchmark — ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), node ${process.version}, ${os.platform()} ${os.release()}; ` +
        `1-min load average ${loadBefore.toFixed(1)} before the HTTP runs, ${(os.loadavg()[0] ?? NaN).toFixed(1)} at the end (other work on the machine skews the numbers)`,
    );
    console.log(
      `corpus: ${ENTRIES.toLocaleString("en")} knowledge entries, ${seeded.words.toLocaleString("en")} words (titles 3–8 words, bodies 50–200, 0–4 tags), ` +
        `workspace file ${fileMb.toFixed(1)} MB; ${queries.length} single-term queries in ${Math.min(...queries.map((q) => q.df))}–${Math.max(...queries.map((q) => q.df))} entries each, limit 20`,
    );
    console.log(
      `runs: ${SECONDS} s each (BENCH_SECONDS), after a warm-up; server: NODE_ENV=production tsx server.ts, LOG_LEVEL=warn, ` +
        `ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE=${SYNC_RATE_LIMIT} so the per-IP API limiter does not throttle the benchmark; ` +
        `autocannon runs in this process on the same machine. Baseline: the same calls in-process (no HTTP, no token check), on the seeded file.`,
    );
    console.log("");
    console.log("| operation | conns | req/s | p50 ms | p99 ms | baseline | baseline req/s | baseline p50 | baseline p99 | ratio (req/s vs baseline) | target |");
    console.log("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|");
    const rows: [string, string, string, Record<string, Stats>][] = [
      ["health", "GET /api/health", "bare node:http, same JSON", bareFloor],
      ["search", "GET …/search?q=<term>&limit=20", "searchKnowledge in-process", base],
      ["write", "POST …/knowledge (201)", "createKnowledge in-process", base],
      ["billing-write", "POST …/knowledge (201), billing on", "createKnowledge in-process (billing off)", { "billing-write/1": base["write/1"]!, "billing-write/50": base["write/50"]! }],
    ];
    for (const [key, label, baseline, baselines] of rows) {
      for (const c of CONNECTIONS) {
        const h = http[`${key}/${c}`];
        const b = baselines[`${key}/${c}`];
        if (!h || !b) continue;
        const ratio = h.rps / b.rps;
        const target = TARGETS[key]?.[c];
        const verdict = target === undefined ? "—" : `≥ ${target}×: ${ratio >= target ? "met" : "NOT MET"}`;
        console.log(
          `| ${key}: ${label} | ${c} | ${h.rps.toFixed(0)} | ${h.p50.toFixed(2)} | ${h.p99.toFixed(2)} | ${baseline} | ${b.rps.toFixed(0)} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${ratio.toFixed(2)}× | ${verdict} |`,
        );
      }
    }
    console.log("");
    const p50 = http[`search/50`]?.p50 ?? NaN;
    console.log(`search p50 ≤ ${TARGET_P50_MS} ms at 50 concurrent: ${p50 <= TARGET_P50_MS ? "met" : "not met"} (${p50.toFixed(2)} ms)`);
    console.log("");
    console.log(
      `for scale: 50 connections in a closed loop keep 50 requests in flight, so p50 ≈ 50 / throughput — p50 ≤ ${TARGET_P50_MS} ms needs about ` +
        `${(50 / (TARGET_P50_MS / 1000)).toLocaleString("en")} req/s.`,
    );
    console.log(
      `searchKnowledge, 1 caller, median ms by term (entries matched): ${[...perTerm]
        .sort((a, b) => b.df - a.df)
        .map((t) => `${t.q} (${t.df}) ${t.ms.toFixed(1)}`)
        .join(", ")}`,
    );
    console.log("");
    console.log(
      `HTTP responses: ${Object.entries(http)
        .map(([name, h]) => `${name} ${h.count} × 2xx, non-2xx ${h.non2xx}, errors ${h.errors} (timeouts ${h.timeouts}) [${h.codes}]`)
        .join("; ")}`,
    );
    console.log(`server log: ${slowQueries} "slow query" warnings (> 20 ms) during the HTTP runs`);
    console.log("");
    console.log(`token check — EXPLAIN QUERY PLAN of resolveTeamToken's lookup on control.db:`);
    for (const line of tokenCheck.plan) console.log(`    ${line}`);
    console.log(
      `resolveTeamToken: ${tokenCheck.oneUs.toFixed(0)} µs median with 1 token issued, ${tokenCheck.manyUs.toFixed(0)} µs with ${(EXTRA_TOKENS + 1).toLocaleString("en")} (ratio ${(tokenCheck.manyUs / tokenCheck.oneUs).toFixed(2)}): a hash lookup, not a scan`,
    );
    console.log(
      `the bare statement for an unknown token, 10,001 tokens stored: ${tokenCheck.indexedUs.toFixed(0)} µs through team_tokens_hash, ${tokenCheck.scanUs.toFixed(0)} µs when forced to scan (NOT INDEXED)`,
    );

    const failed = Object.entries(http).filter(([, h]) => h.count === 0);
    if (failed.length > 0) {
      throw new Error(`no 2xx responses at all in: ${failed.map(([name, h]) => `${name} [${h.codes || "no responses"}, ${h.errors} errors]`).join(", ")}`);
    }
    const bad = Object.entries(http).filter(([, h]) => h.non2xx > 0 || h.errors > 0);
    if (bad.length > 0) console.error(`WARNING: non-2xx responses or errors in ${bad.map(([name]) => name).join(", ")}; see the counts above`);
    ok = true;
  } finally {
    killServers();
    await closeStore().catch(() => undefined);
    if (ok && !process.env.BENCH_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
    else if (ok) console.error(`kept ${dataDir} (BENCH_KEEP): workspace ${seededWorkspace}, master key ${MASTER_KEY}`);
    else console.error(`kept ${dataDir} (server log: ${logFile}); last lines:\n${tail(logFile, 20)}`);
  }
}

async function measureTokenCheck(token: string, workspaceId: string) {
  const control = await getControlDb();
  // The very query resolveTeamToken runs, compiled by drizzle.
  const hash = hashSecret(token);
  const query = tokenLookup(control, hash).toSQL();
  if (!query.params.includes(hash)) throw new Error(`the token hash is not among the parameters of ${query.sql}`);
  const plan = (await control.rows(`EXPLAIN QUERY PLAN ${query.sql}`, query.params)).map((row) => String(row.detail));
  if (!plan.some((line) => line.includes("SEARCH team_tokens USING INDEX team_tokens_hash"))) {
    throw new Error(`the token lookup does not use team_tokens_hash:\n${plan.join("\n")}`);
  }

  const timeResolve = async () => {
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      if (!(await resolveTeamToken(token))) throw new Error("the member token stopped resolving");
      samples.push((performance.now() - t0) * 1000);
    }
    return percentile(samples.sort((a, b) => a - b), 50);
  };
  await timeResolve();
  const oneUs = await timeResolve();
  const now = Date.now();
  for (let i = 0; i < EXTRA_TOKENS; i += 500) {
    const rows = Array.from({ length: Math.min(500, EXTRA_TOKENS - i) }, (_, j) => ({
      id: randomId("tok"),
      workspaceId,
      name: `filler ${i + j}`,
      tokenHash: mintSecret("teamToken").hash,
      role: "viewer" as const,
      scopes: JSON.stringify(["search"]),
      issuerType: "operator" as const,
      issuedBy: null,
      createdAt: now,
      expiresAt: now + 86_400_000,
    }));
    await control.transaction(async (tx) => {
      await tx.insert(teamTokens).values(rows);
    });
  }
  await timeResolve();
  const manyUs = await timeResolve();
  // For contrast, the same statement forced to scan (NOT INDEXED), both for a hash that is not
  // there (a made-up token): a scan then reads all 10,001 rows, the index one b-tree path.
  const scanSql = query.sql.replace('from "team_tokens"', 'from "team_tokens" not indexed');
  if (scanSql === query.sql) throw new Error(`cannot find the FROM clause in ${query.sql}`);
  const timeRaw = async (sql: string) => {
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const unknown = mintSecret("teamToken").hash;
      await control.rows(sql, query.params.map((param) => (param === hash ? unknown : param)));
      samples.push((performance.now() - t0) * 1000);
    }
    return percentile(samples.sort((a, b) => a - b), 50);
  };
  const indexedUs = await timeRaw(query.sql);
  const scanUs = await timeRaw(scanSql);
  return { plan, oneUs, manyUs, indexedUs, scanUs };
}

await main();
