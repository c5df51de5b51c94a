/**
 * npm run bench:export — "Download my data" of a 200 MB workspace, through the real server,
 * beside Info-ZIP's `zip -r` of the same bytes as files, in one run:
 *
 *   1. seeds a temp data dir through the lib: one owner with 10,000 knowledge entries (the
 *      bench corpus), 2,000 links, 200 agent sessions, 2,000 events and artifacts of 256 KiB to
 *      4 MiB making up most of the ~200 MB (two thirds random bytes, stored as binary; a third
 *      log-like text), a session re-authenticated a moment ago, and a second account with a
 *      tiny workspace for the warm-up;
 *   2. starts the production server (`NODE_ENV=production tsx server.ts`), warms the export
 *      route up with the small account's export, then downloads the big one over HTTP to a
 *      file, timing it and sampling the server process's resident memory (VmRSS every 20 ms,
 *      and VmHWM after resetting it through /proc/<pid>/clear_refs). The RSS growth is the peak
 *      during the export less the RSS just before it (target: at most 64 MB). It does so twice
 *      on one server (the second shows the growth is a plateau, not the archive), then once on
 *      a server started with MALLOC_ARENA_MAX=2: glibc keeps the 4 MiB buffers SQLite and the
 *      driver assemble each artifact in, on the libuv threads, in one arena per thread;
 *   3. unpacks the downloaded archive (unzip checks every entry) and times `zip -r` over those
 *      files twice: as zip does by default (deflate everything) and with `-n .bin` (store the
 *      binary artifacts, as the export does), each under /usr/bin/time for its peak RSS.
 *
 * Needs `zip` and `unzip` (Debian: apt-get install -y zip unzip) and a production build (runs
 * `next build` first when there is none; rebuild after changing lib/, the server runs the
 * build). BENCH_KEEP=1 keeps the temp dir. Not part of CI.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { eq } from "drizzle-orm";
import { sessions, users } from "../db/control/schema";
import { agentSessions, artifacts, events, knowledge, links } from "../db/workspace/schema";
import { sessionCookieName } from "../lib/auth/cookies";
import { createSession } from "../lib/auth/sessions";
import { createUser } from "../lib/auth/users";
import { parseConfig, setConfigForTests } from "../lib/config";
import { hashSecret } from "../lib/crypto/secrets";
import { closeStore, getControlDb, getStore, withWorkspace } from "../lib/db/store";
import { logger } from "../lib/log/logger";
import { createKnowledge } from "../lib/workspace/knowledge";
import { createWorkspace } from "../lib/workspace/workspaces";
import { authorize } from "../lib/access/authorize";
import { buildVocabulary, corpusGenerator, mulberry32 } from "./bench/corpus";
import { ensureBuild, killServers, ServerProcess, tail } from "./bench/harness";
import { seedWorkspace } from "./bench/seed";

const ENTRIES = 10_000;
const ARTIFACT_TARGET_BYTES = 185 * 1024 * 1024;
const ARTIFACT_MIN = 256 * 1024;
const ARTIFACT_MAX = 4 * 1024 * 1024;
const RSS_TARGET_MB = 64;
const MASTER_KEY = "e4c0e4c0ffee0ddba11ca7f00d5eed1ee4c0e4c0ffee0ddba11ca7f00d5eed1e";

const mb = (bytes: number) => bytes / 1e6;
const fmt = (value: number, digits = 1) => value.toFixed(digits);

function requireTool(name: string): void {
  if (spawnSync("sh", ["-c", `command -v ${name}`]).status !== 0) throw new Error(`${name} is not installed (Debian: apt-get install -y zip unzip)`);
}

/** Session cookie for `userId`, with its password re-entered just now. */
async function reauthenticatedCookie(userId: string): Promise<string> {
  const { token } = await createSession(userId);
  const control = await getControlDb();
  await control.db.update(sessions).set({ reauthAt: Date.now() }).where(eq(sessions.tokenHash, hashSecret(token)));
  return `${sessionCookieName()}=${token}`;
}

/** Artifacts, links, sessions and events on top of the seeded knowledge; returns the bytes added. */
async function seedRest(workspaceId: string, vocabulary: string[]): Promise<{ artifacts: number; artifactBytes: number }> {
  const random = mulberry32(7);
  const text = corpusGenerator(vocabulary, 99);
  let artifactBytes = 0;
  let count = 0;
  while (artifactBytes < ARTIFACT_TARGET_BYTES) {
    const size = Math.floor(ARTIFACT_MIN + random() * (ARTIFACT_MAX - ARTIFACT_MIN));
    const binary = count % 3 !== 2;
    let bytes: Buffer;
    if (binary) bytes = randomBytes(size);
    else {
      const lines: string[] = [];
      let length = 0;
      while (length < size) {
        const line = `${new Date(1_767_225_600_000 + length).toISOString()} INFO ${text().body.slice(0, 160)}\n`;
        lines.push(line);
        length += line.length;
      }
      bytes = Buffer.from(lines.join("")).subarray(0, size);
    }
    const now = Date.now();
    const row = {
      name: `artifact-${String(count).padStart(4, "0")}.${binary ? "bin" : "log"}`,
      contentType: binary ? "application/octet-stream" : "text/plain",
      bytes,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      createdAt: now,
      updatedAt: now,
      updatedBy: "user:bench",
    };
    await withWorkspace(workspaceId, (db) => db.transaction(async (tx) => void (await tx.insert(artifacts).values(row))));
    artifactBytes += bytes.length;
    count += 1;
  }
  await withWorkspace(workspaceId, (db) =>
    db.transaction(async (tx) => {
      const ids = (await tx.select({ id: knowledge.id }).from(knowledge).limit(2001)).map((row) => row.id);
      for (let i = 0; i + 1 < ids.length; i += 100) {
        await tx.insert(links).values(ids.slice(i, i + 100).map((from, j) => ({ fromId: from, toId: ids[i + j + 1]!, relation: "next", createdAt: Date.now(), createdBy: "user:bench" })));
      }
      for (let i = 0; i < 200; i += 50) {
        await tx.insert(agentSessions).values(
          Array.from({ length: 50 }, (_, j) => ({ name: `agent-${i + j}`, channel: null, state: JSON.stringify({ step: j, notes: text().body }), rev: 1, createdAt: Date.now(), updatedAt: Date.now(), updatedBy: "user:bench" })),
        );
      }
      for (let i = 0; i < 2000; i += 100) {
        await tx.insert(events).values(Array.from({ length: 100 }, (_, j) => ({ type: "build.done", payload: JSON.stringify({ run: i + j, ok: true }), actor: "user:bench", at: Date.now() })));
      }
    }),
  );
  return { artifacts: count, artifactBytes };
}

/** The process in the server's group with the most memory (the node running server.ts, not npx or tsx's launcher). */
function serverPid(group: number): number {
  let best = { pid: 0, rss: -1 };
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== group) continue;
      const rss = kb(`/proc/${name}/status`, "VmRSS");
      if (rss > best.rss) best = { pid: Number(name), rss };
    } catch {
      // gone meanwhile
    }
  }
  if (!best.pid) throw new Error("could not find the server process");
  return best.pid;
}

function kb(statusFile: string, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(statusFile, "utf8"));
  return match ? Number(match[1]) : NaN;
}

type Measured = { label: string; seconds: number; bytes: number; baselineMb: number; peakMb: number };

/** Resets the process's peak RSS (VmHWM) to its current RSS, where the kernel allows it. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

async function download(url: string, cookie: string, file: string): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { cookie } });
  if (response.status !== 200 || !response.body) throw new Error(`the export answered ${response.status}: ${await response.text()}`);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), fs.createWriteStream(file));
  return { seconds: (performance.now() - started) / 1000, bytes: fs.statSync(file).size };
}

/** `zip -r` of `folder` under /usr/bin/time: wall seconds and peak RSS. */
function timedZip(folder: string, out: string, extra: string[]): { seconds: number; maxRssMb: number; bytes: number } {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", "zip", "-r", "-q", ...extra, out, "."], { cwd: folder, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`zip failed: ${result.stderr}`);
  const [seconds, rssKb] = result.stderr.trim().split("\n").at(-1)!.split(" ").map(Number) as [number, number];
  return { seconds, maxRssMb: rssKb / 1024, bytes: fs.statSync(out).size };
}

function folderBytes(folder: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

async function main(): Promise<void> {
  logger.level = "error";
  requireTool("zip");
  requireTool("unzip");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-bench-export-"));
  const dataDir = path.join(work, "data");
  let ok = false;
  try {
    await ensureBuild(path.join(work, "build.log"));
    const vocabulary = buildVocabulary();
    const seedStarted = performance.now();
    const seeded = await seedWorkspace({ dataDir, masterKey: MASTER_KEY, entries: ENTRIES, role: "viewer", vocabulary });
    setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_MASTER_KEY: MASTER_KEY }));
    await getStore().control;
    const extra = await seedRest(seeded.workspaceId, vocabulary);
    const control = await getControlDb();
    const [owner] = await control.db.select().from(users).where(eq(users.email, "bench@example.com"));
    const bigCookie = await reauthenticatedCookie(owner!.id);
    const small = await createUser({ email: "warm-up@example.com", password: "correct horse battery staple" });
    const smallWorkspace = await createWorkspace({ type: "user", userId: small.id }, "Warm-up");
    await createKnowledge(await authorize({ kind: "user", userId: small.id }, smallWorkspace.id, "knowledge"), { title: "hello", body: "warm-up", tags: [] });
    const smallCookie = await reauthenticatedCookie(small.id);
    await closeStore();
    const fileMb = mb(fs.statSync(path.join(dataDir, "workspaces", seeded.workspaceId, "workspace.db")).size);
    console.error(`seeded ${ENTRIES} entries and ${extra.artifacts} artifacts (${fmt(mb(extra.artifactBytes))} MB; workspace.db ${fmt(fileMb)} MB) in ${fmt((performance.now() - seedStarted) / 1000)} s; starting the server…`);

    /** One server (glibc's malloc tuned by `env`): the warm-up, then `runs` timed exports of the big account. */
    const exportRuns = async (label: string, env: Record<string, string>, runs: number) => {
      const server = await ServerProcess.start(dataDir, path.join(work, "server.log"), { ENCLAVE_MASTER_KEY: MASTER_KEY, ENCLAVE_JOBS: "off", ...env });
      try {
        const pid = serverPid(server.processGroup!);
        const exportUrl = `${server.url}/api/account/export`;
        await download(exportUrl, smallCookie, path.join(work, "warm-up.zip"));
        // Let the warm-up's garbage be collected before the baseline.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const status = `/proc/${pid}/status`;
        const baseline = kb(status, "VmRSS") / 1024;
        const results: Measured[] = [];
        for (let run = 1; run <= runs; run++) {
          const hwmReset = resetPeak(pid);
          let peak = kb(status, "VmRSS");
          const sampler = setInterval(() => {
            try {
              peak = Math.max(peak, kb(status, "VmRSS"));
            } catch {
              // the server went away: the download fails below
            }
          }, 20);
          let timed: { seconds: number; bytes: number };
          try {
            timed = await download(exportUrl, bigCookie, path.join(work, "export.zip"));
          } finally {
            clearInterval(sampler);
          }
          const peakMb = Math.max(peak, hwmReset ? kb(status, "VmHWM") : 0) / 1024;
          results.push({ label: runs > 1 ? `${label}, export ${run}` : label, ...timed, baselineMb: baseline, peakMb });
        }
        return results;
      } finally {
        await server.stop();
      }
    };
    // The same server twice: as glibc comes (one malloc arena per thread, so the 4 MiB buffers
    // SQLite assembles each artifact in, on the libuv threads, are kept in several arenas), and
    // with two arenas. Two exports on the first show the growth is a plateau, not the archive.
    const measured = [...(await exportRuns("server, glibc defaults", {}, 2)), ...(await exportRuns("server, MALLOC_ARENA_MAX=2", { MALLOC_ARENA_MAX: "2" }, 1))];

    // The same bytes as files: the archive unpacked (unzip checks every entry's CRC as it goes).
    const files = path.join(work, "files");
    fs.mkdirSync(files);
    execFileSync("unzip", ["-q", path.join(work, "export.zip"), "-d", files]);
    const content = folderBytes(files);
    const zipDefault = timedZip(files, path.join(work, "zip-default.zip"), []);
    const zipStore = timedZip(files, path.join(work, "zip-store-bin.zip"), ["-n", ".bin"]);

    const contentMb = mb(content.bytes);
    const reference = contentMb / measured[0]!.seconds;
    const rows: [string, number, number, string][] = [
      ...measured.map((run): [string, number, number, string] => [`GET /api/account/export (${run.label})`, run.seconds, run.bytes, `+${fmt(run.peakMb - run.baselineMb)} MB over ${fmt(run.baselineMb)} MB (server RSS)`]),
      ["zip -r (deflate all)", zipDefault.seconds, zipDefault.bytes, `${fmt(zipDefault.maxRssMb)} MB peak RSS`],
      ["zip -r -n .bin (store binaries, as the export does)", zipStore.seconds, zipStore.bytes, `${fmt(zipStore.maxRssMb)} MB peak RSS`],
    ];
    console.log(`\nexport of ${content.files} files, ${fmt(contentMb)} MB of content (${ENTRIES} knowledge entries, ${extra.artifacts} artifacts of 256 KiB to 4 MiB); ${os.cpus().length} cores`);
    console.log("| what | seconds | MB/s (content) | archive MB | first export's MB/s ÷ this | memory |");
    console.log("|---|---:|---:|---:|---:|---|");
    for (const [what, seconds, bytes, memory] of rows) {
      console.log(`| ${what} | ${fmt(seconds, 2)} | ${fmt(contentMb / seconds)} | ${fmt(mb(bytes))} | ${fmt(reference / (contentMb / seconds), 2)} | ${memory} |`);
    }
    for (const run of measured) {
      const growth = run.peakMb - run.baselineMb;
      console.log(`RSS growth, ${run.label}: ${fmt(growth)} MB (target ≤ ${RSS_TARGET_MB} MB: ${growth <= RSS_TARGET_MB ? "met" : "MISSED"})`);
    }
    ok = true;
  } catch (error) {
    killServers();
    const log = path.join(work, "server.log");
    if (fs.existsSync(log)) console.error(tail(log));
    throw error;
  } finally {
    if (process.env.BENCH_KEEP === "1" || !ok) console.error(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
