import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { setConfigForTests } from "@/lib/config";
import { closeStore, getControlDb } from "@/lib/db/store";
import { makeTempDir, testConfig } from "./store";

const dataDir = makeTempDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function enclave(...args: string[]) {
  const result = spawnSync(process.execPath, ["bin/enclave.mjs", ...args], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: dataDir },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

describe("enclave CLI", () => {
  it("creates a user and a workspace, printing the id last, and lists it", () => {
    expect(enclave("user", "create", "--email", "Ada@Example.com", "--password", "a long passphrase").status).toBe(0);
    const created = enclave("workspace", "create", "--owner", "ada@example.com", "--name", "Research");
    expect(created.status).toBe(0);
    const id = created.stdout.split("\n").at(-1);
    expect(id).toMatch(/^ws_[0-9a-f]{32}$/);
    expect(fs.statSync(`${dataDir}/workspaces/${id}/workspace.db`).mode & 0o777).toBe(0o600);
    const listed = enclave("workspace", "list");
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`${id}\t`);
    expect(listed.stdout).toContain("Research");

    const control = enclave("audit", "verify");
    expect(control.status).toBe(0);
    expect(control.stdout).toMatch(/control\.db: intact, 2 rows/);
    const workspace = enclave("audit", "verify", "--workspace", id!);
    expect(workspace.stdout).toMatch(/intact, 1 rows/);
    expect(enclave("audit", "verify", "--workspace", "../../etc").status).toBe(2);
  });

  it("refuses bad input with a clear message and a non-zero exit", () => {
    const short = enclave("user", "create", "--email", "bob@example.com", "--password", "short");
    expect(short.status).not.toBe(0);
    expect(short.stderr).toMatch(/12 characters/);
    const badEmail = enclave("user", "create", "--email", "not-an-email", "--password", "a long passphrase");
    expect(badEmail.status).not.toBe(0);
    expect(badEmail.stderr).toMatch(/email/i);
    const noOwner = enclave("workspace", "create", "--owner", "ghost@example.com", "--name", "X");
    expect(noOwner.status).not.toBe(0);
    expect(noOwner.stderr).toMatch(/no user with email ghost@example.com/);
    const unknown = enclave("workspace", "explode");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const unknownFlag = enclave("workspace", "list", "--all");
    expect(unknownFlag.status).toBe(2);
    const duplicate = enclave("user", "create", "--email", "ada@example.com", "--password", "a long passphrase");
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toMatch(/already exists/);
  });

  it("reports a tampered control audit chain and exits 1", async () => {
    setConfigForTests(testConfig(dataDir));
    const control = await getControlDb();
    await control.db.run(sql`UPDATE audit_log SET details = '{"email":"mallory@example.com"}' WHERE seq = 1`);
    await closeStore();
    setConfigForTests(undefined);
    const verdict = enclave("audit", "verify");
    expect(verdict.status).toBe(1);
    expect(verdict.stdout).toMatch(/BROKEN at row 1/);
  });
});

describe("enclave token", () => {
  it("issues a token (last line), lists it without the secret, and revokes it", async () => {
    enclave("user", "create", "--email", "ops@example.com", "--password", "a long passphrase");
    const workspace = enclave("workspace", "create", "--owner", "ops@example.com", "--name", "Ops").stdout.split("\n").at(-1)!;
    const created = enclave("token", "create", "--workspace", workspace, "--role", "member", "--name", "ci", "--expires-in", "30d");
    expect(created.status).toBe(0);
    const token = created.stdout.split("\n").at(-1)!;
    expect(token).toMatch(/^enc_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
    const id = /issued token (tok_[0-9a-f]{32})/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();

    const listed = enclave("token", "list", "--workspace", workspace);
    expect(listed.stdout).toContain(`${id}\t${workspace}\tci\tmember`);
    expect(listed.stdout).toContain("active");
    expect(listed.stdout).not.toContain(token);

    expect(enclave("token", "revoke", id!).stdout).toBe(`revoked ${id}`);
    expect(enclave("token", "list").stdout).toMatch(new RegExp(`${id}.*revoked`));

    // The operator cannot mint beyond admin, nor mix role and scopes, nor exceed a year.
    expect(enclave("token", "create", "--workspace", workspace, "--scope", "search,billing").status).toBe(1);
    expect(enclave("token", "create", "--workspace", workspace, "--role", "viewer", "--scope", "search").status).toBe(2);
    expect(enclave("token", "create", "--workspace", workspace, "--role", "viewer", "--expires-in", "400d").status).toBe(2);
    expect(enclave("token", "create", "--workspace", "ws_nope", "--role", "viewer").status).toBe(2);
    expect(enclave("token", "revoke", "tok_unknown").status).toBe(2);

    // The stored value is the hash only.
    setConfigForTests(testConfig(dataDir));
    const control = await getControlDb();
    const rows = await control.db.all<Record<string, unknown>>(sql`SELECT * FROM team_tokens`);
    expect(JSON.stringify(rows)).not.toContain(token);
    await closeStore();
    setConfigForTests(undefined);
  });
});
