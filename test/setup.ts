import { afterEach, vi } from "vitest";

// An error logged to the console in a unit test is a bug the assertions did not see.
const consoleError = vi.spyOn(console, "error");
afterEach(() => {
  const calls = consoleError.mock.calls;
  consoleError.mockClear();
  if (calls.length > 0) throw new Error(`console.error was called: ${String(calls[0]?.[0])}`);
});
process.env.LOG_LEVEL ??= "silent";
