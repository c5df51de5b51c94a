import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "./fixtures";
import { E2E_DATA_DIR } from "../playwright.config";

/**
 * The restore drill end to end: the running server's data dir is populated through HTTP,
 * backed up by the CLI (age, to a key made by Debian's age-keygen), and `enclave backup drill`
 * restores it into a temp dir, serves it with a second Enclave and walks every primary path.
 */
const work = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-e2e-drill-"));
const backupDir = path.join(work, "backups");
const identityFile = path.join(work, "identity.txt");

function enclave(args: string[], input = "") {
  const recipient = spawnSync("age-keygen", ["-y", identityFile], { encoding: "utf8" }).stdout.trim();
  const result = spawnSync(process.execPath, ["bin/enclave.mjs", ...args], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      ENCLAVE_DATA_DIR: E2E_DATA_DIR,
      ENCLAVE_BACKUP_DIR: backupDir,
      ENCLAVE_BACKUP_RECIPIENTS: recipient,
      ENCLAVE_BACKUP_IDENTITY_FILE: identityFile,
    },
    encoding: "utf8",
    input,
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

test.afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("a drill restores the latest backup and every primary path passes on it", async ({ request }) => {
  test.setTimeout(600_000);
  expect(spawnSync("age-keygen", ["-o", identityFile], { encoding: "utf8" }).status).toBe(0);

  const email = `drill-owner-${Date.now()}@example.com`;
  expect(enclave(["user", "create", "--email", email, "--password-stdin"], "a long enough passphrase\n").status).toBe(0);
  const workspaceId = enclave(["workspace", "create", "--owner", email, "--name", "Drilled"]).stdout.split("\n").at(-1)!;
  const token = enclave(["token", "create", "--workspace", workspaceId, "--role", "member"]).stdout.split("\n").at(-1)!;
  const headers = { authorization: `Bearer ${token}` };
  const api = (rest: string) => `/api/v1/workspaces/${workspaceId}${rest}`;
  expect((await request.post(api("/knowledge"), { headers, data: { title: "Pager rotation", body: "Who answers the pager at night" } })).status()).toBe(201);
  expect((await request.post(api("/knowledge"), { headers, data: { title: "Restore procedure", body: "enclave backup restore" } })).status()).toBe(201);
  expect((await request.put(api("/sessions/nightly"), { headers, data: { rev: 0, state: { step: 3 } } })).ok()).toBe(true);
  expect((await request.post(api("/events"), { headers, data: { type: "deploy.done", payload: { ok: true } } })).status()).toBe(201);
  expect((await request.put(api("/artifacts/report.txt"), { headers: { ...headers, "content-type": "text/plain" }, data: "all systems nominal" })).ok()).toBe(true);

  const backup = enclave(["jobs", "run", "backup"]);
  expect(backup.status, backup.stderr).toBe(0);

  const drill = enclave(["backup", "drill"]);
  expect(drill.status, `${drill.stdout}\n${drill.stderr}`).toBe(0);
  const steps = ["latest backup", "restore", "prepare", "start server", "sign-in", "workspace list", "search", "knowledge read", "agent session", "events", "artifact download", "mcp tools/list and a tool call", "audit verify"];
  for (const step of steps) expect(drill.stdout).toMatch(new RegExp(`^ok {3}${step.replace(/[/.]/g, "\\$&")} `, "m"));
  expect(drill.stdout).not.toMatch(/^FAIL/m);
  expect(drill.stdout).toMatch(/artifact download .*bytes=19/);
  expect(drill.stdout).toMatch(/: ok, 13 steps$/m);

  const listed = enclave(["backup", "drills"]);
  expect(listed.stdout.split("\n")[0]).toMatch(/\tok\t/);
  // The drill's copy is gone.
  expect(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("enclave-drill-"))).toEqual([]);
});
