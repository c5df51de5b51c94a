import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deriveControlKey, deriveWorkspaceKey } from "@/lib/crypto/keys";
import { Connection } from "@/lib/db/connection";
import { makeTempDir } from "./store";
import { runEnclave } from "./cli-helpers";

/**
 * The backup commands end to end, as an operator runs them: the real CLI in a child process,
 * keys made by Debian's age-keygen, and a backup decrypted by the real age CLI (interop).
 */
const root = makeTempDir();
const dataDir = path.join(root, "data");
const backupDir = path.join(root, "backups");
const keyFile = path.join(root, "key.txt");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const keygen = spawnSync("age-keygen", ["-o", keyFile], { encoding: "utf8" });
const recipient = /age1[0-9a-z]+/.exec(keygen.stderr)?.[0] ?? "";

const enclave = (args: string[], env: Record<string, string> = {}, input = "") =>
  runEnclave(dataDir, args, { env: { ENCLAVE_BACKUP_DIR: backupDir, ENCLAVE_BACKUP_RECIPIENTS: recipient, ...env }, input });

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

// Every CLI call starts tsx: seconds each on a busy machine.
describe("enclave backup", { timeout: 180_000 }, () => {
  let workspaceId = "";
  let backupId = "";
  const outputs: string[] = [];

  it("is skipped, saying why, when no recipient is configured", () => {
    expect(keygen.status).toBe(0);
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(enclave(["user", "create", "--email", "ada@example.com", "--password-stdin"], {}, "a long passphrase\n").status).toBe(0);
    workspaceId = enclave(["workspace", "create", "--owner", "ada@example.com", "--name", "Research"]).stdout.split("\n").at(-1) ?? "";
    const skipped = enclave(["backup", "run"], { ENCLAVE_BACKUP_RECIPIENTS: "" });
    expect(skipped.status).toBe(1);
    expect(skipped.stderr).toMatch(/skipped \(no backup recipients: set ENCLAVE_BACKUP_RECIPIENTS/);
    expect(fs.existsSync(backupDir) ? fs.readdirSync(backupDir) : []).toEqual([]);
  });

  it("runs through the jobs runner: one progress line per file with MB/s, the id last on stdout", () => {
    const run = enclave(["backup", "run"]);
    outputs.push(run.stdout, run.stderr);
    expect(run.status, run.stderr).toBe(0);
    backupId = run.stdout.split("\n").at(-1) ?? "";
    expect(backupId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    const lines = run.stderr.split("\n").filter((line) => line.startsWith("["));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[1\/2\] control\.db [\d.]+\/[\d.]+ MB [\d.]+ MB\/s in [\d.]+ s$/);
    expect(lines[1]).toContain(`[2/2] ${workspaceId} `);
    const jobs = enclave(["jobs", "list"]);
    expect(jobs.stdout).toMatch(/\nbackup\t1440m\t\S+\tok\t\{"files":2,/);
    const listed = enclave(["backup", "list"]);
    expect(listed.stdout).toMatch(new RegExp(`^${backupId}\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\t2 files\\t\\d+ bytes$`));
  });

  it("decrypts with Debian's age CLI into files that open with the derived keys (interop)", async () => {
    const master = Buffer.from(fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim(), "hex");
    const set = path.join(backupDir, backupId);
    const controlOut = path.join(root, "control.plain.db");
    const workspaceOut = path.join(root, "workspace.plain.db");
    expect(spawnSync("age", ["-d", "-i", keyFile, "-o", controlOut, path.join(set, "control.db.age")]).status).toBe(0);
    expect(spawnSync("age", ["-d", "-i", keyFile, "-o", workspaceOut, path.join(set, "workspaces", `${workspaceId}.db.age`)]).status).toBe(0);
    const control = await Connection.open(controlOut, deriveControlKey(master), { create: false });
    expect(await control.all("SELECT email FROM users")).toEqual([{ email: "ada@example.com" }]);
    expect(await control.all("SELECT id, name FROM workspaces")).toEqual([{ id: workspaceId, name: "Research" }]);
    await control.close();
    const workspace = await Connection.open(workspaceOut, deriveWorkspaceKey(master, workspaceId), { create: false });
    expect(await workspace.all("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
    expect((await workspace.all("SELECT count(*) AS n FROM audit_log"))[0]?.n).toBeGreaterThan(0);
    await workspace.close();
  });

  it("restores into an empty dir, and refuses a non-empty one and another instance's master key", () => {
    const to = path.join(root, "restored");
    const restored = enclave(["backup", "restore", "--from", backupId, "--identity", keyFile, "--to", to]);
    outputs.push(restored.stdout, restored.stderr);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored backup .*: 2 databases/);
    expect(fs.readdirSync(to).sort()).toEqual(["control.db", "master.key", "workspaces"]);
    // The restored folder serves as a data dir: the CLI reads it back.
    expect(enclave(["workspace", "list"], { ENCLAVE_DATA_DIR: to, ENCLAVE_BACKUP_DIR: path.join(root, "other-backups") }).stdout).toContain(`${workspaceId}\t`);

    const again = enclave(["backup", "restore", "--from", backupId, "--identity", keyFile, "--to", to]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is not an empty folder/);

    const otherKey = path.join(root, "other.key");
    fs.writeFileSync(otherKey, "ab".repeat(32));
    const foreign = path.join(root, "foreign");
    const refused = enclave(["backup", "restore", "--from", path.join(backupDir, backupId), "--identity", keyFile, "--to", foreign, "--master-key-file", otherKey]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/signed by key .* not by this master key/);
    expect(fs.existsSync(foreign)).toBe(false);

    // A relative path that climbs out to /etc from wherever this checkout sits.
    const climbing = path.relative(process.cwd(), "/etc");
    const usage = enclave(["backup", "restore", "--from", climbing, "--identity", keyFile, "--to", foreign]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--from: \/etc is not named as a backup set is/);
    const missing = enclave(["backup", "restore", "--from", path.join(root, "nowhere"), "--identity", keyFile, "--to", foreign]);
    expect(missing.stderr).toMatch(/--from: .* is neither a backup id nor the folder of a backup set/);
  });

  it("puts no master key and no derived key in any backup file or CLI output", () => {
    const master = Buffer.from(fs.readFileSync(path.join(dataDir, "master.key"), "utf8").trim(), "hex");
    const secrets = [master, deriveControlKey(master), deriveWorkspaceKey(master, workspaceId)];
    const needles = secrets.flatMap((key) => [key, Buffer.from(key.toString("hex")), Buffer.from(key.toString("hex").toUpperCase()), Buffer.from(key.toString("base64"))]);
    const haystacks = [...allFiles(backupDir).map((file) => fs.readFileSync(file)), ...outputs.map((text) => Buffer.from(text))];
    expect(haystacks.length).toBeGreaterThan(3);
    for (const haystack of haystacks) for (const needle of needles) expect(haystack.includes(needle)).toBe(false);
  });
});
