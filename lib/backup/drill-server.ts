import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

/**
 * The child processes of a drill: the preparer (drill-prepare.ts) and a second Enclave serving
 * the restored copy on a loopback port. Each gets a minimal environment — never this process's
 * (it would carry ENCLAVE_MASTER_KEY, the backup settings and the identity file's path to the copy).
 */
const ROOT = process.cwd();
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL = 2000;

const baseEnv = (dataDir: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  NODE_ENV: "production",
  ENCLAVE_DATA_DIR: dataDir,
  ENCLAVE_JOBS: "off",
  LOG_LEVEL: "warn",
  NEXT_TELEMETRY_DISABLED: "1",
});

/** Runs drill-prepare.ts `mode` over `dataDir` and parses the JSON line it prints. */
export function runPreparer<T>(dataDir: string, mode: "prepare" | "verify", timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "lib/backup/drill-prepare.ts"), mode], {
      cwd: ROOT,
      env: baseEnv(dataDir),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-OUTPUT_TAIL)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) return reject(new Error(`drill-prepare ${mode} ${signal ? `was killed (${signal})` : `exited ${code}`}: ${stderr.trim() || "no output"}`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as T);
      } catch {
        reject(new Error(`drill-prepare ${mode} printed no JSON: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type DrillServer = { url: string; stop(): Promise<void> };

/** Starts `tsx server.ts` (the production build) over `dataDir` and waits for /api/health. */
export async function startDrillServer(dataDir: string): Promise<DrillServer> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "server.ts")], {
    cwd: ROOT,
    env: { ...baseEnv(dataDir), HOST: "127.0.0.1", PORT: String(port), ENCLAVE_PUBLIC_URL: url },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-OUTPUT_TAIL)));
  const server: DrillServer = { url, stop: () => stopChild(child) };
  try {
    await waitUntilHealthy(url, child, () => stderr);
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function waitUntilHealthy(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the drill server exited (${child.exitCode ?? child.signalCode}) before serving: ${stderr().trim() || "no output"}`);
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the drill server did not answer /api/health within ${READY_TIMEOUT_MS / 1000} s: ${stderr().trim() || "no output"}`);
}

/** SIGTERM (the server closes its files), then SIGKILL after a grace period; resolves once it has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
