import { spawnSync } from "node:child_process";

export type CliResult = { status: number | null; stdout: string; stderr: string };

/**
 * The real `enclave` command (bin/enclave.mjs) on `dataDir`, as an operator runs it: a clean
 * environment (PATH, NODE_ENV=test, the data dir, then `env`), `input` on stdin (never a
 * terminal), output trimmed. Every CLI test goes through this one call.
 */
export function runEnclave(
  dataDir: string,
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number; bin?: string } = {},
): CliResult {
  const result = spawnSync(process.execPath, [options.bin ?? "bin/enclave.mjs", ...args], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: dataDir, ...options.env },
    encoding: "utf8",
    input: options.input ?? "",
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}
