import os from "node:os";
import path from "node:path";
import { afterEach, vi } from "vitest";

// An error logged to the console in a unit test is a bug the assertions did not see.
const consoleError = vi.spyOn(console, "error");
afterEach(() => {
  const calls = consoleError.mock.calls;
  consoleError.mockClear();
  if (calls.length > 0) throw new Error(`console.error was called: ${String(calls[0]?.[0])}`);
});
process.env.LOG_LEVEL ??= "silent";
// A store opened outside useTempStore (a call after its teardown) falls back to the environment:
// point that at a throwaway folder, never at ./data in the working tree.
process.env.ENCLAVE_DATA_DIR = path.join(os.tmpdir(), `enclave-stray-${process.pid}`);
