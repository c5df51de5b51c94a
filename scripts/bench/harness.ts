/** What the benchmarks share: latency statistics, closed-loop callers, autocannon, and the server under test. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export type Stats = { count: number; rps: number; p50: number; p99: number };

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export function stats(latencies: number[], seconds: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, rps: sorted.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** `concurrency` async callers calling `op` back to back for `seconds`; per-call latency. */
export async function closedLoop(concurrency: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return stats(latencies, (performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------------
// HTTP side

/** `mismatches`: 2xx responses whose body failed the run's `verifyBody` (0 when there is none). */
export type HttpStats = Stats & { non2xx: number; errors: number; timeouts: number; mismatches: number; codes: string };

export function runCannon(options: autocannon.Options): Promise<HttpStats> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(`autocannon failed: ${JSON.stringify(error)}`));
        return;
      }
      const codes = Object.entries(result.statusCodeStats ?? {})
        .map(([code, { count }]) => `${code}×${count ?? 0}`)
        .join(" ");
      resolve({
        ...stats(latencies, result.duration),
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        mismatches: result.mismatches,
        codes,
      });
    });
    // autocannon's own histogram keeps whole milliseconds; keep the exact 2xx times instead.
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function ensureBuild(logFile: string): Promise<void> {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  const deadline = Date.now() + 10 * 60_000;
  while (!fs.existsSync(buildId)) {
    console.error("no production build (.next/BUILD_ID): running next build first (about 2 minutes)…");
    const log = fs.openSync(logFile, "w");
    try {
      execFileSync("npx", ["next", "build"], { cwd: ROOT, stdio: ["ignore", log, log] });
    } catch (error) {
      // Someone else's build in the same tree: wait for theirs rather than fail.
      if (!fs.readFileSync(logFile, "utf8").includes("Another next build process is already running") || Date.now() > deadline) {
        console.error(tail(logFile));
        throw new Error(`next build failed (${error instanceof Error ? error.message : "see the log above"})`);
      }
      console.error("another next build is running in this tree: waiting for it…");
      while (!fs.existsSync(buildId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      fs.closeSync(log);
    }
  }
}

export class ServerProcess {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logFile: string,
    /** ENCLAVE_PUBLIC_URL: routes that check the Host header (e.g. /mcp) want its host, not `url`'s. */
    readonly publicUrl: string,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /**
   * `env` adds to (and overrides) the server's environment: ENCLAVE_* from this process are not passed on.
   * `script` and `healthPath` let another server (a benchmark's baseline) run under the same
   * process-group handling: it must listen on $HOST:$PORT and answer 200 on `healthPath`.
   */
  static async start(
    dataDir: string,
    logFile: string,
    extraEnv: Record<string, string>,
    { script = "server.ts", healthPath = "/api/health", nodeFlags = [] }: { script?: string; healthPath?: string; nodeFlags?: string[] } = {},
  ): Promise<ServerProcess> {
    const port = await freePort();
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ENCLAVE_"))),
      NODE_ENV: "production" as const,
      ENCLAVE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      ENCLAVE_PUBLIC_URL: `http://localhost:${port}`,
      LOG_LEVEL: "warn",
      ...extraEnv,
    };
    const log = fs.openSync(logFile, "a");
    // Its own process group: npx → tsx → node, all stopped together. Flags for node itself
    // (NODE_OPTIONS refuses some, such as --cpu-prof) need node run directly, with tsx as a loader.
    const [command, args] = nodeFlags.length > 0 ? [process.execPath, [...nodeFlags, "--import", "tsx", script]] : ["npx", ["tsx", script]];
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", log, log], detached: true });
    fs.closeSync(log);
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, logFile, env.ENCLAVE_PUBLIC_URL);
    running = server;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        const response = await fetch(server.url + healthPath);
        await response.arrayBuffer();
        if (response.status === 200) return server;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await server.stop();
    throw new Error(`the server did not become healthy; its log ends with:\n${tail(logFile)}`);
  }

  /** The server's process group (npx → tsx → node): its processes are found by it, for their memory. */
  get processGroup(): number | undefined {
    return this.child.pid;
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.signal("SIGTERM");
      const timer = setTimeout(() => this.signal("SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    // The group may outlive npx for a moment: make sure nobody still holds the files.
    this.signal("SIGKILL");
    if (running === this) running = undefined;
  }

  killNow(): void {
    this.signal("SIGKILL");
  }
}

let running: ServerProcess | undefined;
/** Stops the server under test at once (on error or exit): it must not outlive the benchmark. */
export const killServers = () => running?.killNow();
process.on("exit", () => running?.killNow());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    running?.killNow();
    process.exit(130);
  });
}

