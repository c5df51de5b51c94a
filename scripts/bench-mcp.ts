/**
 * npm run bench:mcp — what Enclave's MCP endpoint costs against a bare MCP SDK server doing
 * the same storage work, measured in one run:
 *
 *   1. seeds a temp data dir through the lib (one workspace, a viewer team token, 10,000
 *      knowledge entries of seeded pseudo-random text), then closes the store;
 *   2. the peer baseline: scripts/bench/mcp-baseline.ts — plain node:http, McpServer +
 *      StreamableHTTPServerTransport (stateless, JSON responses), no auth, one `search` tool
 *      calling searchKnowledge on the same workspace file through the same store — as a child
 *      process; autocannon POSTs `tools/call search` at 1 and 32 connections; stopped;
 *   3. Enclave: the production server (`NODE_ENV=production tsx server.ts`, the Next build) on
 *      the same data dir, the same calls to POST /mcp with `Authorization: Bearer <token>`.
 *
 * The two servers run one after the other, never together: each would otherwise hold its own
 * connection to the one workspace file and take CPU from the other. Search only reads, so the
 * second server sees the file as the first did. BENCH_ROUNDS (default 2) repeats the pair,
 * flipping the order each round, and the table shows each server's fastest round.
 *
 * Before a server is timed, every query is called once and must come back as a JSON-RPC
 * result with hits; during the runs each body is checked (a result, not an error) and a run
 * with any non-2xx, socket error, timeout or bad body is reported as invalid (exit code 1).
 *
 * BENCH_SECONDS (default 10) sets the length of every measured run; BENCH_KEEP=1 keeps the temp
 * data dir. Rate limits are lifted for the server under test, or they would be the brake being
 * measured. Needs a production build; runs `next build` first when there is none.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type autocannon from "autocannon";
import { buildVocabulary } from "./bench/corpus";
import { ensureBuild, killServers, runCannon, ServerProcess, tail, type HttpStats } from "./bench/harness";
import { hitsIn, looksLikeResult, MCP_HEADERS, searchCall } from "./bench/mcp-shape";
import { seedWorkspace } from "./bench/seed";
import { closeStore } from "../lib/db/store";
import { logger } from "../lib/log/logger";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP_SECONDS = Math.min(3, Math.max(1, SECONDS / 3));
const ENTRIES = 10_000;
const LIMIT = 20;
const CONNECTIONS = [1, 32] as const;
// Issue 14: all auth and guards on, at least 0.9× the bare SDK server.
const TARGET_RATIO = 0.9;
const TARGET_P99_MS = 50;
const TARGET_P99_AT = 32;
// Fixed, so a failed run's data dir can be opened again by hand (it is removed on success).
const MASTER_KEY = "5eb1e5c0ffee0ddba11ca7f00d5eed1e5eb1e5c0ffee0ddba11ca7f00d5eed1e";
const RATE_LIMIT = String(100_000_000);

if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error(`BENCH_SECONDS must be a positive number, not ${process.env.BENCH_SECONDS}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, not ${process.env.BENCH_ROUNDS}`);

type Target = {
  key: "bare" | "enclave";
  label: string;
  script: string;
  healthPath: string;
  env: Record<string, string>;
  headers: Record<string, string>;
};

/**
 * The headers every call carries. Host is the public URL's (localhost:<port>) while the socket
 * goes to 127.0.0.1: /mcp answers only its public host (DNS-rebinding defence), as behind a proxy.
 */
const callHeaders = (server: ServerProcess, target: Target) => ({ ...MCP_HEADERS, host: new URL(server.publicUrl).host, ...target.headers });

/** One POST by node:http, not fetch: fetch does not let a caller set Host. */
function post(server: ServerProcess, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}/mcp`, { method: "POST", headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Every query once, outside the timing: a JSON-RPC result with hits, or the run stops here. */
async function verify(server: ServerProcess, target: Target, queries: string[]): Promise<void> {
  for (const [i, q] of queries.entries()) {
    const response = await post(server, callHeaders(server, target), searchCall(q, LIMIT, i + 1));
    const outcome = hitsIn(response.body);
    if (response.status !== 200 || "error" in outcome || outcome.hits === 0) {
      throw new Error(`${target.label}: search "${q}" gave HTTP ${response.status}: ${"error" in outcome ? outcome.error : "no hits"}`);
    }
  }
  // The token must be what lets the call through, or the comparison measures no auth at all.
  if (target.key === "enclave") {
    const response = await post(server, callHeaders(server, { ...target, headers: {} }), searchCall(queries[0] ?? "", LIMIT));
    if (response.status !== 401) throw new Error(`${target.label}: a call without a token gave HTTP ${response.status}, expected 401: ${response.body.slice(0, 200)}`);
  }
}

async function measure(target: Target, dataDir: string, logFile: string, queries: string[]): Promise<Record<number, HttpStats>> {
  const server = await ServerProcess.start(dataDir, logFile, target.env, { script: target.script, healthPath: target.healthPath });
  try {
    await verify(server, target, queries);
    const requests: autocannon.Request[] = queries.map((q, i) => ({ method: "POST", path: "/mcp", body: searchCall(q, LIMIT, i + 1) }));
    const cannon = (connections: number, duration: number) =>
      runCannon({ url: server.url, connections, duration, requests, headers: callHeaders(server, target), verifyBody: looksLikeResult });
    await cannon(8, WARMUP_SECONDS);
    const runs: Record<number, HttpStats> = {};
    for (const c of CONNECTIONS) runs[c] = await cannon(c, SECONDS);
    return runs;
  } finally {
    await server.stop();
  }
}

/** The server log written last (the one whose server failed, when a run fails). */
function lastLog(dir: string): string {
  const logs = fs.readdirSync(dir).filter((name) => name.endsWith(".log")).map((name) => path.join(dir, name));
  return logs.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0] ?? path.join(dir, "none.log");
}

const valid = (h: HttpStats | undefined) => !!h && h.count > 0 && h.non2xx === 0 && h.errors === 0 && h.timeouts === 0 && h.mismatches === 0;

async function main(): Promise<void> {
  logger.level = "error";
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-mcp-"));
  let ok = false;
  try {
    await ensureBuild(path.join(dataDir, "build.log"));

    const vocabulary = buildVocabulary();
    const data = path.join(dataDir, "data");
    const seeded = await seedWorkspace({ dataDir: data, masterKey: MASTER_KEY, entries: ENTRIES, role: "viewer", vocabulary });
    const queries = seeded.queries.map(({ q }) => q);
    const fileMb = fs.statSync(path.join(data, "workspaces", seeded.workspaceId, "workspace.db")).size / 1e6;
    console.error(`seeded ${ENTRIES} entries (${seeded.words} words) in ${seeded.seedSeconds.toFixed(1)} s`);

    const targets: Target[] = [
      {
        key: "bare",
        label: "bare MCP SDK server (node:http, no auth)",
        script: "scripts/bench/mcp-baseline.ts",
        healthPath: "/health",
        env: { ENCLAVE_MASTER_KEY: MASTER_KEY, BENCH_WORKSPACE_ID: seeded.workspaceId },
        headers: {},
      },
      {
        key: "enclave",
        label: "Enclave POST /mcp (bearer team token)",
        script: "server.ts",
        healthPath: "/api/health",
        env: { ENCLAVE_MASTER_KEY: MASTER_KEY, ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: RATE_LIMIT, ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: RATE_LIMIT },
        headers: { authorization: `Bearer ${seeded.token}` },
      },
    ];
    const loadBefore = os.loadavg()[0] ?? NaN;
    // ABBA…: the order flips every round, so a load that rises or falls during the benchmark
    // (other work on the machine) does not favour whichever server always goes first.
    const runs: Record<Target["key"], Record<number, HttpStats[]>> = { bare: {}, enclave: {} };
    const slow: Record<Target["key"], number> = { bare: 0, enclave: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const logFile = path.join(dataDir, `${target.key}-${round + 1}.log`);
        console.error(`round ${round + 1}/${ROUNDS}: ${target.label}: warming up (${WARMUP_SECONDS}s), then ${SECONDS}s at ${CONNECTIONS.join(" and ")} connections…`);
        const measured = await measure(target, data, logFile, queries);
        for (const c of CONNECTIONS) (runs[target.key][c] ??= []).push(measured[c] as HttpStats);
        slow[target.key] += (fs.readFileSync(logFile, "utf8").match(/"msg":"slow query"/g) ?? []).length;
      }
    }
    // Interference from other processes only ever slows a run down, so each server's fastest
    // round is the nearest to what it does on a quiet machine; all rounds are listed below.
    const best = (key: Target["key"], c: number) => runs[key][c]?.reduce((a, b) => (b.rps > a.rps ? b : a));

    // ---- report ----
    const cpus = os.cpus();
    console.log(
      `MCP benchmark — ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), node ${process.version}, ${os.platform()} ${os.release()}; ` +
        `1-min load average ${loadBefore.toFixed(1)} before the HTTP runs, ${(os.loadavg()[0] ?? NaN).toFixed(1)} at the end (other work on the machine skews the numbers)`,
    );
    console.log(
      `corpus: ${ENTRIES.toLocaleString("en")} knowledge entries, ${seeded.words.toLocaleString("en")} words, workspace file ${fileMb.toFixed(1)} MB; ` +
        `tools/call search with ${queries.length} rotating single-term queries (${Math.min(...seeded.queries.map((q) => q.df))}–${Math.max(...seeded.queries.map((q) => q.df))} matching entries each), limit ${LIMIT}`,
    );
    console.log(
      `runs: ${SECONDS} s each (BENCH_SECONDS) after a ${WARMUP_SECONDS} s warm-up; ${ROUNDS} round${ROUNDS > 1 ? "s" : ""} (BENCH_ROUNDS), the two servers alternating ` +
        `on the same data dir (never both at once), each server's fastest round shown. Enclave: NODE_ENV=production tsx server.ts, LOG_LEVEL=warn, rate limits lifted; ` +
        `bare: tsx scripts/bench/mcp-baseline.ts (same input/output schemas, same searchKnowledge on the same file); autocannon runs in this process on the same machine.`,
    );
    console.log("");
    console.log("| conns | server | req/s | p50 ms | p99 ms | Enclave / bare req/s |");
    console.log("|---:|---|---:|---:|---:|---:|");
    const ratio = (c: number) => (best("enclave", c)?.rps ?? NaN) / (best("bare", c)?.rps ?? NaN);
    for (const c of CONNECTIONS) {
      for (const target of targets) {
        const h = best(target.key, c);
        if (!h) continue;
        const cell = target.key === "enclave" ? `**${ratio(c).toFixed(2)}×**` : "1.00×";
        console.log(`| ${c} | ${target.label} | ${h.rps.toFixed(0)} | ${h.p50.toFixed(2)} | ${h.p99.toFixed(2)} | ${cell} |`);
      }
    }
    console.log("");
    for (const c of CONNECTIONS) {
      const r = ratio(c);
      console.log(`- throughput ≥ ${TARGET_RATIO}× the bare server at ${c} concurrent: ${r >= TARGET_RATIO ? "met" : "NOT MET"} (${r.toFixed(2)}×)`);
    }
    const p99 = best("enclave", TARGET_P99_AT)?.p99 ?? NaN;
    console.log(`- Enclave p99 ≤ ${TARGET_P99_MS} ms at ${TARGET_P99_AT} concurrent: ${p99 <= TARGET_P99_MS ? "met" : "NOT MET"} (${p99.toFixed(2)} ms)`);
    console.log("");
    console.log(
      `every round, req/s (p99 ms): ${targets
        .flatMap((t) => CONNECTIONS.map((c) => `${t.key}/${c} ${(runs[t.key][c] ?? []).map((h) => `${h.rps.toFixed(0)} (${h.p99.toFixed(0)})`).join(", ")}`))
        .join("; ")}`,
    );
    const all = targets.flatMap((t) => CONNECTIONS.flatMap((c) => (runs[t.key][c] ?? []).map((h, round) => ({ name: `${t.key}/${c}#${round + 1}`, h }))));
    console.log(
      `HTTP responses: ${all.map(({ name, h }) => `${name}: ${h.count} × 2xx, non-2xx ${h.non2xx}, errors ${h.errors} (timeouts ${h.timeouts}), bad bodies ${h.mismatches} [${h.codes}]`).join("; ")}`,
    );
    console.log(`server logs: "slow query" warnings (> 20 ms): bare ${slow.bare}, Enclave ${slow.enclave}`);

    const invalid = all.filter(({ h }) => !valid(h)).map(({ name }) => name);
    if (invalid.length > 0) {
      console.log(`INVALID: ${invalid.join(", ")} had non-2xx responses, errors or bad bodies (counts above); those numbers are not a result`);
      process.exitCode = 1;
    }
    ok = true;
  } finally {
    killServers();
    await closeStore().catch(() => undefined);
    if (ok && !process.env.BENCH_KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
    else if (ok) console.error(`kept ${dataDir} (BENCH_KEEP), master key ${MASTER_KEY}`);
    else console.error(`kept ${dataDir} (server logs: <server>-<round>.log there); the last one ends:\n${tail(lastLog(dataDir), 20)}`);
  }
}

await main();
