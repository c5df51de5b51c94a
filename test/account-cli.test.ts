import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./store";
import { runEnclave } from "./cli-helpers";

const dataDir = makeTempDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const enclave = (...args: string[]) => runEnclave(dataDir, args, { input: args[0] === "user" ? "a long passphrase\n" : "" });

describe("enclave account", () => {
  it("closes an account, lists it as closing, cancels the closure, then erases it at once with --now", { timeout: 120_000 }, () => {
    expect(enclave("user", "create", "--email", "ada@example.com", "--password-stdin").status).toBe(0);
    const workspace = enclave("workspace", "create", "--owner", "ada@example.com", "--name", "Notes").stdout.split("\n").at(-1)!;
    expect(enclave("account", "list", "--closing").stdout.split("\n")).toHaveLength(1);

    const closed = enclave("account", "close", "--email", "ada@example.com");
    expect(closed.status).toBe(0);
    expect(closed.stdout).toMatch(/closing ada@example\.com: 0 sessions ended, 0 tokens and 0 AI clients revoked, 1 workspaces deleted with it/);
    expect(closed.stdout).toMatch(/erased after \d{4}-\d\d-\d\dT/);
    const closing = enclave("account", "list", "--closing").stdout;
    expect(closing).toMatch(/usr_[0-9a-f]+\tada@example\.com\tclosing\t/);
    expect(enclave("workspace", "list").stdout).not.toContain(workspace);
    expect(enclave("account", "close", "--email", "ada@example.com").status).toBe(1);

    const cancelled = enclave("account", "cancel-closure", "--email", "ada@example.com");
    expect(cancelled.status).toBe(0);
    expect(cancelled.stdout).toMatch(/open again; 1 workspaces restored/);
    expect(enclave("workspace", "list").stdout).toContain(workspace);
    expect(enclave("account", "cancel-closure", "--email", "ada@example.com").status).toBe(1);

    const erased = enclave("account", "close", "--email", "ada@example.com", "--now");
    expect(erased.status).toBe(0);
    expect(erased.stdout).toMatch(/erased ada@example\.com/);
    expect(fs.existsSync(path.join(dataDir, "workspaces", workspace))).toBe(false);
    expect(enclave("account", "list").stdout).toMatch(/ada@example\.com\tclosed\t/);
    expect(enclave("audit", "verify").status).toBe(0);
  });

  it("refuses an unknown email, a bad one and an unknown verb with a usage error", { timeout: 60_000 }, () => {
    expect(enclave("account", "close", "--email", "ghost@example.com").stderr).toMatch(/no account with email ghost@example\.com/);
    expect(enclave("account", "close", "--email", "not-an-email").status).toBe(2);
    expect(enclave("account", "explode").status).toBe(2);
    expect(enclave("account", "list", "--everything").status).toBe(2);
  });
});
