import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackup } from "@/lib/backup/backup";
import { lastDrill, recentDrills, runDrill, type DrillRecord } from "@/lib/backup/drill";
import { closeStore, getStore } from "@/lib/db/store";
import { setConfigForTests } from "@/lib/config";
import { findJob } from "@/lib/jobs/jobs";
import { runJob } from "@/lib/jobs/runner";
import { ageKeyPair, backupWorld, cleanupWorld, populate, type BackupWorld } from "./backup-fixture";
import { testConfig } from "./store";

let world: BackupWorld;
beforeEach(async () => {
  world = await backupWorld();
});
afterEach(async () => {
  await cleanupWorld(world);
});

/** The drill's temp dirs: every failure must leave none behind (they hold decrypted data). */
const drillDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("enclave-drill-"));

async function backedUp(): Promise<string> {
  await populate(2);
  return (await runBackup({ now: Date.now(), target: world.target })).backupId;
}

/** A drill that must fail at `stepName`, recorded so, with nothing left behind. */
async function expectFailedAt(stepName: string, message: RegExp, identity = world.identity): Promise<DrillRecord> {
  const before = drillDirs();
  const drill = await runDrill({ now: Date.now(), target: world.target, identity });
  expect(drill.outcome).toBe("failed");
  const failed = drill.steps.filter((step) => !step.ok);
  expect(failed.map((step) => step.name)).toEqual([stepName]);
  expect(failed[0]?.error).toMatch(message);
  expect(drill.error).toMatch(new RegExp(`^${stepName}: `));
  expect(drill.endedAt).not.toBeNull();
  expect(drillDirs()).toEqual(before);
  // No step after the failing one ran: no preparer, no second server.
  expect(drill.steps.map((step) => step.name)).not.toContain("start server");
  expect(await lastDrill()).toEqual(drill);
  return drill;
}

describe("a restore drill that cannot pass fails loudly", () => {
  it("with no backup at all", async () => {
    const drill = await expectFailedAt("latest backup", /no complete backup/);
    expect(drill.backupId).toBeNull();
  });

  it("with a corrupted .age file", async () => {
    const backupId = await backedUp();
    const dir = path.join(world.backupDir, backupId, "workspaces");
    const file = path.join(dir, fs.readdirSync(dir)[0]!);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    const drill = await expectFailedAt("restore", /does not match the manifest|cannot be decrypted/);
    expect(drill.backupId).toBe(backupId);
  });

  it("with the wrong age identity", async () => {
    await backedUp();
    await expectFailedAt("restore", /cannot be decrypted with this identity/, (await ageKeyPair()).identity);
  });

  it("with the wrong master key (an instance that did not take the backup)", async () => {
    await backedUp();
    // Another data dir, hence another master key, reading the same backups.
    await closeStore();
    const elsewhere = path.join(world.scratch, "other-instance");
    setConfigForTests(testConfig(elsewhere, { ENCLAVE_BACKUP_DIR: world.backupDir, ENCLAVE_BACKUP_RECIPIENTS: world.recipient }));
    await getStore().control;
    expect(getStore().masterKey.equals(world.masterKey)).toBe(false);
    await expectFailedAt("restore", /signed by key|signature/);
  });

  it("lists drills newest first", async () => {
    await runDrill({ now: 1_000, target: world.target, identity: world.identity });
    await runDrill({ now: 2_000, target: world.target, identity: world.identity });
    expect((await recentDrills()).map((drill) => drill.startedAt)).toEqual([2_000, 1_000]);
  });
});

describe("the backup-drill job", () => {
  it("is skipped, not failed, without ENCLAVE_BACKUP_IDENTITY_FILE", async () => {
    const result = await runJob(findJob("backup-drill")!, "cli");
    expect(result).toMatchObject({ outcome: "skipped", reason: expect.stringMatching(/ENCLAVE_BACKUP_IDENTITY_FILE/) as unknown });
    expect(await lastDrill()).toBeNull();
  });

  it("fails, and `enclave backup drill` exits 1 naming the step, on a corrupted backup", async () => {
    const backupId = await backedUp();
    const control = path.join(world.backupDir, backupId, "control.db.age");
    fs.truncateSync(control, fs.statSync(control).size - 100);
    const identityFile = path.join(world.scratch, "identity.txt");
    fs.writeFileSync(identityFile, world.identity, { mode: 0o600 });
    await closeStore();
    const result = spawnSync(process.execPath, ["bin/enclave.mjs", "backup", "drill"], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        ENCLAVE_DATA_DIR: world.dataDir,
        ENCLAVE_BACKUP_DIR: world.backupDir,
        ENCLAVE_BACKUP_RECIPIENTS: world.recipient,
        ENCLAVE_BACKUP_IDENTITY_FILE: identityFile,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^ok {3}latest backup/m);
    expect(result.stdout).toMatch(/^FAIL restore/m);
    expect(result.stderr).toMatch(/FAILED at restore: /);
    // The log line at error level, for whoever watches the logs rather than the exit code.
    expect(`${result.stdout}${result.stderr}`).toMatch(/"level":50[^\n]*backup drill FAILED/);
    const listed = spawnSync(process.execPath, ["bin/enclave.mjs", "backup", "drills"], { env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: world.dataDir }, encoding: "utf8", timeout: 30_000 });
    expect(listed.stdout).toContain(`${backupId}\tfailed`);
  }, 90_000);
});
