/**
 * npm run bench:profile — where the production server spends its CPU on the three calls
 * machines make most: GET /api/health, a REST search and an MCP `tools/call search`.
 *
 * For each call it seeds nothing new (one data dir, 10,000 knowledge entries, seeded once),
 * starts the real server (`NODE_ENV=production tsx server.ts`) under `node --cpu-prof`, drives
 * that one call with autocannon (1 connection, BENCH_SECONDS, default 5), stops the server and
 * reads the V8 profile it wrote on exit. Self time is grouped by where the code comes from (the
 * script's URL): Next's runtime, the compiled app (route handlers and proxy.ts, bundled by the
 * build), this repo's own modules as tsx loads them (server.ts and lib/), the SQLCipher driver,
 * other packages, and V8/Node itself (GC, JSON, streams). The top functions by self time follow.
 *
 * Timing here is a profile, not a benchmark: the ratios are in bench:api and bench:mcp.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildVocabulary } from "./bench/corpus";
import { ensureBuild, killServers, runCannon, ServerProcess, tail } from "./bench/harness";
import { MCP_HEADERS, searchCall } from "./bench/mcp-shape";
import { seedWorkspace } from "./bench/seed";
import { logger } from "../lib/log/logger";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const MASTER_KEY = "5eb1e5c0ffee0ddba11ca7f00d5eed1e5eb1e5c0ffee0ddba11ca7f00d5eed1e";
const TOP = 12;

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
/** A stretch of the monotonic clock, in µs: V8 stamps its samples with the same clock as process.hrtime. */
type Window = { from: number; to: number };
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

const ROOT = path.resolve(import.meta.dirname, "..");

// The chunks the compiled proxy.ts loads (Turbopack names them by hash, not by source).
const PROXY_CHUNKS = new Set(
  [...fs.readFileSync(path.join(ROOT, ".next/server/middleware.js"), "utf8").matchAll(/R\.c\("server\/chunks\/([^"]+)"\)/g)].map((match) => match[1]),
);
// Frames that only run what others ask for: their time is charged to the nearest caller that is not one.
const RUNS_FOR_OTHERS = new Set(["Node core (streams, http, …)", "V8/Node built-ins"]);

/** Where a frame's code comes from, by its script URL. */
function origin(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? `V8 ${functionName}` : "V8/Node built-ins";
  if (url.startsWith("node:")) return "Node core (streams, http, …)";
  const file = url.replace(/^file:\/\//, "");
  if (file.includes("/.next/server/")) {
    return file.endsWith("middleware.js") || PROXY_CHUNKS.has(path.basename(file)) ? "compiled proxy.ts (and what it bundles)" : "compiled app (.next: route handlers, lib/ as bundled)";
  }
  if (file.includes("/node_modules/next/")) return "Next runtime (node_modules/next)";
  if (file.includes("/node_modules/@journeyapps/sqlcipher/")) return "SQLCipher driver (JS side)";
  if (file.includes("/node_modules/pino")) return "logging (pino)";
  if (file.includes("/node_modules/hono/") || file.includes("/node_modules/@hono/")) return "Hono router and node adapter";
  if (file.includes("/node_modules/zod/")) return "zod";
  if (file.includes("/node_modules/drizzle-orm/")) return "drizzle";
  if (file.includes("/node_modules/@modelcontextprotocol/")) return "MCP SDK";
  if (file.includes("/node_modules/")) return `other package (${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? "?"})`;
  if (file.startsWith(ROOT)) return `repo: ${path.relative(ROOT, file).split("/").slice(0, 2).join("/")}`;
  return file;
}

/** Self time by origin and by function, counting only the samples taken inside `window` (start-up and shutdown left out). */
function summarize(profile: Profile, window: Window): { total: number; byOrigin: [string, number][]; byFunction: [string, number][] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // Node's and V8's own frames count for whoever called them; at the root (the socket's read, the parser) they stay Node's.
  const chargedTo = (id: number): string => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return "?";
    const where = origin(frame.url, frame.functionName);
    if (!RUNS_FOR_OTHERS.has(where)) return where;
    for (let up = parentOf.get(id); up !== undefined; up = parentOf.get(up)) {
      const caller = byId.get(up)?.callFrame;
      if (!caller || caller.functionName === "(root)") break;
      const callerOrigin = origin(caller.url, caller.functionName);
      if (!RUNS_FOR_OTHERS.has(callerOrigin)) return `${callerOrigin}, via Node`;
    }
    return `${where}, called by no code of ours or Next's`;
  };
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= window.from && at <= window.to) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    total += micros;
    const where = chargedTo(id);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + micros);
    const name = `${frame.functionName || "(anonymous)"} — ${frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : "native"}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { total, byOrigin: sorted(byOrigin), byFunction: sorted(byFunction).slice(0, TOP) };
}

async function main(): Promise<void> {
  logger.level = "error";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-profile-"));
  const dataDir = path.join(dir, "data");
  let ok = false;
  try {
    await ensureBuild(path.join(dir, "build.log"));
    const seeded = await seedWorkspace({ dataDir, masterKey: MASTER_KEY, entries: 10_000, role: "member", vocabulary: buildVocabulary() });
    const auth = { authorization: `Bearer ${seeded.token}` };
    const q = seeded.queries[Math.floor(seeded.queries.length / 2)]?.q ?? "";
    const calls = [
      { name: "GET /api/health", requests: [{ method: "GET" as const, path: "/api/health" }], headers: {} },
      { name: "REST search", requests: [{ method: "GET" as const, path: `/api/v1/workspaces/${seeded.workspaceId}/search?q=${encodeURIComponent(q)}&limit=20` }], headers: auth },
      { name: "MCP tools/call search", requests: [{ method: "POST" as const, path: "/mcp", body: searchCall(q, 20) }], headers: { ...auth, ...MCP_HEADERS } },
    ];
    console.log(`CPU profile of the production server, 1 connection, ${SECONDS} s per call (self time, idle, start-up and a 2 s warm-up excluded); query "${q}" (${seeded.queries.find((x) => x.q === q)?.df ?? "?"} matches)`);
    for (const call of calls) {
      const profileDir = path.join(dir, `profile-${calls.indexOf(call)}`);
      const server = await ServerProcess.start(dataDir, path.join(dir, "server.log"), {
        ENCLAVE_MASTER_KEY: MASTER_KEY,
        ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000000",
      }, { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] });
      let done = 0;
      const window: Window = { from: 0, to: 0 };
      try {
        await runCannon({ url: server.url, connections: 1, duration: 2, requests: call.requests, headers: { ...call.headers, host: new URL(server.publicUrl).host } });
        window.from = nowMicros();
        const run = await runCannon({ url: server.url, connections: 1, duration: SECONDS, requests: call.requests, headers: { ...call.headers, host: new URL(server.publicUrl).host } });
        if (run.non2xx > 0 || run.count === 0) throw new Error(`${call.name}: ${run.codes}`);
        window.to = nowMicros();
        done = run.count;
      } finally {
        await server.stop();
      }
      const profiles = fs.readdirSync(profileDir).map((file) => JSON.parse(fs.readFileSync(path.join(profileDir, file), "utf8")) as Profile);
      const summary = profiles.map((profile) => summarize(profile, window)).sort((a, b) => b.total - a.total)[0];
      if (!summary) throw new Error(`no profile written in ${profileDir}`);
      const perRequest = (micros: number) => (micros / done / 1000).toFixed(3);
      console.log("");
      console.log(`### ${call.name}: ${done} requests, ${perRequest(summary.total)} ms CPU each`);
      console.log("");
      console.log("| where | ms per request | share |");
      console.log("|---|---:|---:|");
      for (const [where, micros] of summary.byOrigin) {
        if (micros / summary.total < 0.005) continue;
        console.log(`| ${where} | ${perRequest(micros)} | ${((100 * micros) / summary.total).toFixed(1)}% |`);
      }
      console.log("");
      console.log(`top ${TOP} functions by self time: ${summary.byFunction.map(([name, micros]) => `${name} ${((100 * micros) / summary.total).toFixed(1)}%`).join("; ")}`);
    }
    ok = true;
  } finally {
    killServers();
    if (ok && !process.env.BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.error(`kept ${dir}; server log ends:\n${tail(path.join(dir, "server.log"), 20)}`);
  }
}

await main();
