import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { closeStore, getStore } from "@/lib/db/store";
import { makeTempDir, testConfig } from "./store";

/** Starts the real server entry point and returns how it ended (it must end by itself). */
function startServer(env: Record<string, string>) {
  const result = spawnSync(path.resolve("node_modules/.bin/tsx"), ["server.ts"], {
    env: { PATH: process.env.PATH, NODE_ENV: "production", ENCLAVE_PUBLIC_URL: "http://localhost:3999", PORT: "3999", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr.trim(), timedOut: result.error !== undefined };
}

async function dataDirWith(env: Record<string, string>): Promise<string> {
  const dataDir = makeTempDir();
  setConfigForTests(testConfig(dataDir, env));
  await getStore().control;
  await closeStore();
  setConfigForTests(undefined);
  return dataDir;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the server refuses to start on a wrong key or a bad environment", () => {
  it("exits non-zero with one line naming the master key when ENCLAVE_MASTER_KEY is wrong", async () => {
    const dataDir = await dataDirWith({ ENCLAVE_MASTER_KEY: randomBytes(32).toString("hex") });
    dirs.push(dataDir);
    const before = fs.readFileSync(path.join(dataDir, "control.db"));
    const run = startServer({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_MASTER_KEY: randomBytes(32).toString("hex") });
    expect(run.timedOut).toBe(false);
    expect(run.status).toBe(1);
    expect(run.stderr.split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/master key/i);
    expect(fs.readFileSync(path.join(dataDir, "control.db")).equals(before)).toBe(true);
  });

  it("exits non-zero when master.key was replaced by another key", async () => {
    const dataDir = await dataDirWith({});
    dirs.push(dataDir);
    fs.writeFileSync(path.join(dataDir, "master.key"), randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
    const run = startServer({ ENCLAVE_DATA_DIR: dataDir });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/master key/i);
  });

  it("exits non-zero naming the variable when PORT is not a number", () => {
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    const run = startServer({ ENCLAVE_DATA_DIR: dataDir, PORT: "abc" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PORT/);
    expect(fs.existsSync(path.join(dataDir, "control.db"))).toBe(false);
  });

  it("exits non-zero naming ENCLAVE_JOB_SCHEDULE when it names a job that does not exist", () => {
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    const run = startServer({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_JOB_SCHEDULE: "nightly-backup=60" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^enclave: ENCLAVE_JOB_SCHEDULE names no such job: nightly-backup/);
  });
});
