import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import pino from "pino";
import { auditWorkspace } from "@/lib/audit/audit";
import { verifyCheckpointLine } from "@/lib/audit/checkpoint";
import { emitAuditCheckpoints } from "@/lib/audit/checkpoint-emitter";
import { setConfigForTests } from "@/lib/config";
import { verifyPassword } from "@/lib/auth/password";
import { findUserByEmail } from "@/lib/auth/users";
import { closeStore, getControlDb, withWorkspace } from "@/lib/db/store";
import { makeTempDir, testConfig } from "./store";
import { runEnclave } from "./cli-helpers";

const dataDir = makeTempDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function enclave(...args: string[]) {
  return enclaveWithInput("", ...args);
}

/** The CLI with `input` on its standard input (not a terminal). */
const enclaveWithInput = (input: string, ...args: string[]) => runEnclave(dataDir, args, { input });

describe("enclave CLI", () => {
  it("creates a user and a workspace, printing the id last, and lists it", () => {
    expect(enclaveWithInput("a long passphrase\n", "user", "create", "--email", "Ada@Example.com", "--password-stdin").status).toBe(0);
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

  it("never takes a password from a flag, and without --password-stdin and a terminal it asks for one", async () => {
    for (const args of [["--password", "a long passphrase"], ["--password=a long passphrase"]]) {
      const flagged = enclave("user", "create", "--email", "flag@example.com", ...args);
      expect(flagged.status).toBe(2);
      expect(flagged.stderr).toMatch(/--password would put the password in ps/);
    }
    const noTerminal = enclaveWithInput("a long passphrase\n", "user", "create", "--email", "pipe@example.com");
    expect(noTerminal.status).toBe(2);
    expect(noTerminal.stderr).toMatch(/--password-stdin/);
    // Only the first line is the password: a trailing newline is not part of it.
    expect(enclaveWithInput("exactly twelve\nignored\n", "user", "create", "--email", "lines@example.com", "--password-stdin").status).toBe(0);
    setConfigForTests(testConfig(dataDir));
    const user = await findUserByEmail("lines@example.com");
    expect(await verifyPassword(user?.passwordHash, "exactly twelve")).toBe(true);
    expect(await verifyPassword(user?.passwordHash, "exactly twelve\n")).toBe(false);
    await closeStore();
    setConfigForTests(undefined);
  });

  it("refuses bad input with a clear message and a non-zero exit", () => {
    const short = enclaveWithInput("short\n", "user", "create", "--email", "bob@example.com", "--password-stdin");
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/12 characters/);
    const badEmail = enclaveWithInput("a long passphrase\n", "user", "create", "--email", "not-an-email", "--password-stdin");
    expect(badEmail.status).toBe(2);
    expect(badEmail.stderr).toMatch(/email/i);
    const noOwner = enclave("workspace", "create", "--owner", "ghost@example.com", "--name", "X");
    expect(noOwner.status).toBe(2);
    expect(noOwner.stderr).toMatch(/no user with email ghost@example.com/);
    const unknown = enclave("workspace", "explode");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const unknownFlag = enclave("workspace", "list", "--all");
    expect(unknownFlag.status).toBe(2);
    const duplicate = enclaveWithInput("a long passphrase\n", "user", "create", "--email", "ada@example.com", "--password-stdin");
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
    enclaveWithInput("a long passphrase\n", "user", "create", "--email", "ops@example.com", "--password-stdin");
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

describe("enclave audit", () => {
  it("public-key prints the checkpoint key as PEM and its key id, the same each time, and it verifies this instance's checkpoint lines", async () => {
    const printed = enclave("audit", "public-key");
    expect(printed.status).toBe(0);
    const pem = /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$/m.exec(printed.stdout)?.[0];
    const keyId = /^key id: ([A-Za-z0-9_-]{43})$/m.exec(printed.stdout)?.[1];
    expect(pem).toBeDefined();
    expect(keyId).toBeDefined();
    expect(enclave("audit", "public-key").stdout).toBe(printed.stdout);
    expect(enclave("audit", "public-key", "--workspace", "ws_x").status).toBe(2);

    setConfigForTests(testConfig(dataDir));
    const lines: string[] = [];
    await emitAuditCheckpoints(pino({ base: undefined }, { write: (line: string) => void lines.push(line) }));
    await closeStore();
    setConfigForTests(undefined);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ msg: "audit checkpoint", keyId });
      expect(verifyCheckpointLine(line, pem!)).toMatchObject({ ok: true });
    }
  });

  it("verify --checkpoint proves the chain still holds an earlier head: exit 0 if so, 1 with the reason if not, 2 if malformed", async () => {
    enclaveWithInput("a long passphrase\n", "user", "create", "--email", "auditor@example.com", "--password-stdin");
    const workspace = enclave("workspace", "create", "--owner", "auditor@example.com", "--name", "Audited").stdout.split("\n").at(-1)!;
    setConfigForTests(testConfig(dataDir));
    for (let i = 0; i < 3; i++) await auditWorkspace(workspace, { actor: { type: "system" }, action: "knowledge.delete", target: `k${i}` });
    await closeStore();

    const intact = enclave("audit", "verify", "--workspace", workspace);
    expect(intact.status).toBe(0);
    const checkpoint = /intact, 4 rows, head (4:[0-9a-f]{64})$/.exec(intact.stdout)?.[1];
    expect(checkpoint).toBeDefined();
    const holds = enclave("audit", "verify", "--workspace", workspace, "--checkpoint", checkpoint!);
    expect(holds.status).toBe(0);
    expect(holds.stdout).toContain(`holds checkpoint ${checkpoint}`);

    for (const malformed of ["4", `x:${"a".repeat(64)}`, `4:${"g".repeat(64)}`, `4:${"a".repeat(63)}`, ""]) {
      const refused = enclave("audit", "verify", "--workspace", workspace, "--checkpoint", malformed);
      expect(refused.status, malformed).toBe(2);
      expect(refused.stderr).toMatch(/--checkpoint: expected <seq>:<64 hex hash>/);
    }

    // Whoever can write the file deletes the two newest rows and rewrites the head to match.
    setConfigForTests(testConfig(dataDir));
    await withWorkspace(workspace, async (db) => {
      await db.db.run(sql`DELETE FROM audit_log WHERE seq > 2`);
      await db.db.run(sql`UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_log WHERE seq = 2)`);
    });
    await closeStore();
    setConfigForTests(undefined);
    expect(enclave("audit", "verify", "--workspace", workspace).stdout).toMatch(/intact, 2 rows/);
    const caught = enclave("audit", "verify", "--workspace", workspace, "--checkpoint", checkpoint!);
    expect(caught.status).toBe(1);
    expect(caught.stdout).toBe(
      `audit chain of workspace ${workspace}: BROKEN at row 4 (checkpoint ${checkpoint} is not in the chain: row 4 is missing (the chain ends at 2))`,
    );
  });

  it("verify fails, naming the seq, when the newest row or every row is gone but the head remains", async () => {
    enclaveWithInput("a long passphrase\n", "user", "create", "--email", "trunc@example.com", "--password-stdin");
    const workspace = enclave("workspace", "create", "--owner", "trunc@example.com", "--name", "Truncated").stdout.split("\n").at(-1)!;
    setConfigForTests(testConfig(dataDir));
    await auditWorkspace(workspace, { actor: { type: "system" }, action: "knowledge.delete" });
    await withWorkspace(workspace, (db) => db.db.run(sql`DELETE FROM audit_log WHERE seq = 2`));
    await closeStore();
    const newest = enclave("audit", "verify", "--workspace", workspace);
    expect(newest.status).toBe(1);
    expect(newest.stdout).toMatch(/BROKEN at row 2 \(row 2 is missing: the chain ends at 1 but its head is at 2\)/);

    await withWorkspace(workspace, (db) => db.db.run(sql`DELETE FROM audit_log`));
    await closeStore();
    setConfigForTests(undefined);
    const all = enclave("audit", "verify", "--workspace", workspace);
    expect(all.status).toBe(1);
    expect(all.stdout).toMatch(/BROKEN at row 1 \(rows 1–2 are missing/);
  });
});
