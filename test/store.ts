import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { parseConfig, setConfigForTests, type Config } from "@/lib/config";
import { closeStore, getStore } from "@/lib/db/store";

export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "enclave-test-"));
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return parseConfig({ ENCLAVE_DATA_DIR: dataDir, ...env });
}

/** Gives each test a fresh data dir with real SQLCipher files, removed afterwards. */
export function useTempStore(env: Record<string, string> = {}): { dataDir: () => string } {
  let dataDir = "";
  beforeEach(async () => {
    // A store a straggler (a stream still closing) reopened after the last test closed its own
    // would point at another data dir: close it, so this test's getStore() opens its own.
    await closeStore();
    dataDir = makeTempDir();
    setConfigForTests(testConfig(dataDir, env));
    await getStore().control;
  });
  afterEach(async () => {
    await closeStore();
    setConfigForTests(undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return { dataDir: () => dataDir };
}
