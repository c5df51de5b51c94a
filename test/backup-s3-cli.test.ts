import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Server, type TestS3Server } from "./s3-server";
import { makeTempDir } from "./store";
import { runEnclave } from "./cli-helpers";

/**
 * `enclave backup run|list|restore` with ENCLAVE_BACKUP_S3_* set, as an operator runs them: the
 * real CLI in a child process against s3rver (test/s3-server.ts), keys from Debian's age-keygen.
 */
const root = makeTempDir();
const dataDir = path.join(root, "data");
const keyFile = path.join(root, "key.txt");
let s3: TestS3Server;

const keygen = spawnSync("age-keygen", ["-o", keyFile], { encoding: "utf8" });
const recipient = /age1[0-9a-z]+/.exec(keygen.stderr)?.[0] ?? "";

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket("cli-backups");
});
afterAll(async () => {
  await s3.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const enclave = (args: string[], env: Record<string, string> = {}, input = "") =>
  runEnclave(dataDir, args, { env: { ENCLAVE_BACKUP_RECIPIENTS: recipient, ...s3.env("cli-backups", "site-a/"), ...env }, input, timeoutMs: 90_000 });

// Every CLI call starts tsx: seconds each on a busy machine.
describe("enclave backup with an S3 bucket", { timeout: 240_000 }, () => {
  it("runs a backup into the bucket, lists it, and restores it by id into an empty dir", () => {
    expect(keygen.status).toBe(0);
    expect(enclave(["user", "create", "--email", "ada@example.com", "--password-stdin"], {}, "a long passphrase\n").status).toBe(0);
    expect(enclave(["workspace", "create", "--owner", "ada@example.com", "--name", "Research"]).status).toBe(0);

    const run = enclave(["backup", "run"]);
    expect(run.status, run.stderr).toBe(0);
    const backupId = run.stdout.split("\n").at(-1) ?? "";
    expect(backupId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(fs.existsSync(`${dataDir}-backups`)).toBe(false);

    const listed = enclave(["backup", "list"]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(backupId);

    const to = path.join(root, "restored");
    const restored = enclave(["backup", "restore", "--from", backupId, "--identity", keyFile, "--to", to]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored backup ${backupId} from s3://cli-backups/site-a/ at ${s3.endpoint}`);
    expect(fs.existsSync(path.join(to, "control.db"))).toBe(true);
  });

  it("says what is wrong with the bucket in one line, without the secret", () => {
    const secret = "not-the-secret-Hq2v9XkP";
    const refused = enclave(["backup", "list"], { ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY: secret });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/refused the credentials \(SignatureDoesNotMatch\)/);
    expect(refused.stdout + refused.stderr).not.toContain(secret);
    const missing = enclave(["backup", "list"], { ENCLAVE_BACKUP_S3_BUCKET: "no-such-bucket" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`S3 bucket "no-such-bucket" at ${s3.endpoint} does not exist`);
  });
});
