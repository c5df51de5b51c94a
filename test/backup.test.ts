import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackup } from "@/lib/backup/backup";
import { verifyManifest, MANIFEST_FILE } from "@/lib/backup/manifest";
import { auditSigner } from "@/lib/audit/checkpoint";
import { backupWorld, cleanupWorld, populate, type BackupWorld } from "./backup-fixture";

let world: BackupWorld;
beforeEach(async () => {
  world = await backupWorld();
});
afterEach(async () => {
  await cleanupWorld(world);
});

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

describe("runBackup to a directory", () => {
  it("writes one .age per database and a manifest signed with this instance's audit key, all private", async () => {
    const { workspaceIds } = await populate(2);
    const result = await runBackup({ now: Date.now(), target: world.target });
    expect(result.files).toBe(3);
    expect(await world.target.list()).toEqual([result.backupId]);
    const setDir = path.join(world.backupDir, result.backupId);
    expect((await world.target.files(result.backupId)).sort()).toEqual(
      ["control.db.age", MANIFEST_FILE, ...workspaceIds.map((id) => `workspaces/${id}.db.age`)].sort(),
    );
    const verdict = verifyManifest(fs.readFileSync(path.join(setDir, MANIFEST_FILE), "utf8"), auditSigner(world.masterKey).publicKey);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.manifest.files.map((file) => file.database).sort()).toEqual(["control", ...workspaceIds].sort());
    expect(verdict.manifest.files.every((file) => file.schemaVersion > 0 && file.plaintextBytes > 0)).toBe(true);
    expect(modeOf(world.backupDir)).toBe(0o700);
    expect(modeOf(setDir)).toBe(0o700);
    expect(modeOf(path.join(setDir, "control.db.age"))).toBe(0o600);
    expect(fs.readFileSync(path.join(setDir, "control.db.age")).subarray(0, 21).toString()).toBe("age-encryption.org/v1");
  });
});
