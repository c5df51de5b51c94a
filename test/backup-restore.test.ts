import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditSigner } from "@/lib/audit/checkpoint";
import { runBackup } from "@/lib/backup/backup";
import { MANIFEST_FILE, signManifest, verifyManifest, type Manifest } from "@/lib/backup/manifest";
import { restoreBackup, restoreDatabaseFile } from "@/lib/backup/restore";
import { authorize } from "@/lib/access/authorize";
import { closeStore, getControlDb, getStore, withWorkspace } from "@/lib/db/store";
import { setConfigForTests } from "@/lib/config";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { searchKnowledge } from "@/lib/workspace/search";
import { ageKeyPair, backupWorld, cleanupWorld, populate, type BackupWorld } from "./backup-fixture";
import { testConfig } from "./store";

let world: BackupWorld;
beforeEach(async () => {
  world = await backupWorld();
});
afterEach(async () => {
  await cleanupWorld(world);
});

const setDir = (backupId: string) => path.join(world.backupDir, backupId);
const manifestPath = (backupId: string) => path.join(setDir(backupId), MANIFEST_FILE);
const readManifest = (backupId: string): Manifest => {
  const verdict = verifyManifest(fs.readFileSync(manifestPath(backupId), "utf8"), auditSigner(world.masterKey).publicKey);
  if (!verdict.ok) throw new Error(verdict.reason);
  return verdict.manifest;
};

async function backedUp(count = 2) {
  const data = await populate(count);
  const { backupId } = await runBackup({ now: Date.now(), target: world.target });
  return { ...data, backupId };
}

/** Restores into a folder that does not exist yet; afterwards it must not exist either when the restore failed. */
function restoreInto(backupId: string, overrides: { identity?: string; masterKey?: Buffer; to?: string } = {}) {
  const to = overrides.to ?? path.join(world.scratch, "restored");
  const run = restoreBackup({ target: world.target, backupId, identity: overrides.identity ?? world.identity, masterKey: overrides.masterKey ?? world.masterKey, to });
  return { to, run };
}

async function expectRefused(backupId: string, message: RegExp, overrides: { identity?: string; masterKey?: Buffer } = {}) {
  const { to, run } = restoreInto(backupId, overrides);
  await expect(run).rejects.toThrow(message);
  expect(fs.existsSync(to), "a failed restore leaves nothing in --to").toBe(false);
}

describe("restoreBackup", () => {
  it("restores a complete data dir the server opens: rows, FTS5 search and every audit chain", async () => {
    const { userId, workspaceIds, backupId } = await backedUp(2);
    const { to, run } = restoreInto(backupId);
    const result = await run;
    expect(result.files).toBe(3);
    expect(fs.statSync(path.join(to, "master.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(to, "workspaces", workspaceIds[0]!)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(to, "control.db")).mode & 0o777).toBe(0o600);

    // The restored folder as a data dir of its own: the store finds the key and every file there.
    await closeStore();
    setConfigForTests(testConfig(to));
    expect(getStore().masterKey.equals(world.masterKey)).toBe(true);
    const control = await getControlDb();
    expect((await verifyAuditChain(control.db, controlAuditLog)).ok).toBe(true);
    for (const [i, workspaceId] of workspaceIds.entries()) {
      const access = await authorize({ kind: "user", userId }, workspaceId, "search");
      const hits = await searchKnowledge(access, { q: `zebra${i}`, limit: 10 });
      expect(hits.map((hit) => hit.title).sort()).toEqual([`Runbook ${i}.0`, `Runbook ${i}.1`, `Runbook ${i}.2`]);
      const verdict = await withWorkspace(workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog));
      expect(verdict).toMatchObject({ ok: true });
      expect(verdict.rows).toBeGreaterThanOrEqual(3);
    }
  });

  it("refuses a non-empty --to and leaves what is in it alone", async () => {
    const { backupId } = await backedUp(1);
    const to = path.join(world.scratch, "busy");
    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, "keep.txt"), "mine");
    const { run } = restoreInto(backupId, { to });
    await expect(run).rejects.toThrow(/not an empty folder/);
    expect(fs.readdirSync(to)).toEqual(["keep.txt"]);
  });

  it("leaves an empty --to empty when it fails half-way", async () => {
    const { backupId, workspaceIds } = await backedUp(2);
    const to = path.join(world.scratch, "empty");
    fs.mkdirSync(to);
    fs.truncateSync(path.join(setDir(backupId), "workspaces", `${workspaceIds[1]}.db.age`), 200);
    const { run } = restoreInto(backupId, { to });
    await expect(run).rejects.toThrow(/damaged|does not match/);
    expect(fs.readdirSync(to)).toEqual([]);
  });

  it("refuses a manifest with one byte changed", async () => {
    const { backupId } = await backedUp(1);
    const text = fs.readFileSync(manifestPath(backupId), "utf8");
    // A digit of a size: still valid JSON of the right shape, so only the signature can catch it.
    const at = text.indexOf('"plaintextBytes": ') + '"plaintextBytes": '.length;
    const flipped = text.slice(0, at) + (text[at] === "9" ? "8" : "9") + text.slice(at + 1);
    fs.writeFileSync(manifestPath(backupId), flipped);
    await expectRefused(backupId, /signature does not match/);
  });

  it("refuses a backup signed by another master key, saying so", async () => {
    const { backupId } = await backedUp(1);
    await expectRefused(backupId, /signed by key .* not by this master key/, { masterKey: randomBytes(32) });
  });

  it("refuses a workspace file swapped for another workspace's", async () => {
    const { backupId, workspaceIds } = await backedUp(2);
    const [a, b] = workspaceIds.map((id) => path.join(setDir(backupId), "workspaces", `${id}.db.age`));
    fs.copyFileSync(b!, a!);
    await expectRefused(backupId, /does not match the manifest/);
  });

  it("refuses a truncated .age file", async () => {
    const { backupId } = await backedUp(1);
    const file = path.join(setDir(backupId), "control.db.age");
    fs.truncateSync(file, fs.statSync(file).size - 1);
    await expectRefused(backupId, /damaged|does not match/);
  });

  it("refuses a wrong identity, and an identity file that holds none", async () => {
    const { backupId } = await backedUp(1);
    const other = await ageKeyPair();
    await expectRefused(backupId, /cannot be decrypted with this identity/, { identity: `# created by a test\n${other.identity}\n` });
    await expectRefused(backupId, /holds no age identity/, { identity: "not a key" });
  });

  it("refuses a set missing a file its manifest lists", async () => {
    const { backupId, workspaceIds } = await backedUp(2);
    fs.rmSync(path.join(setDir(backupId), "workspaces", `${workspaceIds[0]}.db.age`));
    await expectRefused(backupId, /missing files its manifest lists: workspaces\//);
  });

  it("refuses a set holding a file its manifest does not list", async () => {
    const { backupId } = await backedUp(1);
    fs.writeFileSync(path.join(setDir(backupId), "workspaces", "ws_00000000000000000000000000000000.db.age"), "extra");
    await expectRefused(backupId, /does not list: workspaces\/ws_0+\.db\.age/);
    fs.rmSync(path.join(setDir(backupId), "workspaces", "ws_00000000000000000000000000000000.db.age"));
    fs.writeFileSync(path.join(setDir(backupId), "notes.txt"), "extra");
    await expectRefused(backupId, /does not list: notes\.txt/);
  });

  it("refuses a path-traversal backup id before touching a path", async () => {
    await backedUp(1);
    for (const id of ["../backups", "..", "/etc", "20261202T053000Z-1a2b3c/../../x"]) await expectRefused(id, /not a backup id/);
  });

  it("refuses a forged manifest naming a path outside the set, even one signed with the right key", async () => {
    const { backupId, workspaceIds } = await backedUp(1);
    const manifest = readManifest(backupId);
    const forged = {
      ...manifest,
      files: manifest.files.map((file) => (file.database === workspaceIds[0] ? { ...file, path: "../../../etc/passwd" } : file)),
    };
    fs.writeFileSync(manifestPath(backupId), signManifest(auditSigner(world.masterKey), forged));
    await expectRefused(backupId, /does not match its database/);
    const forgedDatabase = { ...manifest, files: manifest.files.map((file) => (file.database === workspaceIds[0] ? { ...file, database: "../x", path: "workspaces/../x.db.age" } : file)) };
    fs.writeFileSync(manifestPath(backupId), signManifest(auditSigner(world.masterKey), forgedDatabase));
    await expectRefused(backupId, /manifest\.json/);
  });

  it("refuses a manifest copied in from another set", async () => {
    const first = await backedUp(1);
    const second = await runBackup({ now: Date.now() + 1000, target: world.target });
    fs.copyFileSync(manifestPath(first.backupId), manifestPath(second.backupId));
    await expectRefused(second.backupId, /is the manifest of backup/);
  });
});

describe("restoreDatabaseFile", () => {
  it("restores one workspace file, and removes it again when its hash does not match", async () => {
    const { backupId, workspaceIds } = await backedUp(2);
    const manifest = readManifest(backupId);
    const outFile = path.join(world.scratch, "one.db");
    const restore = (database: string, manifestUsed = manifest) =>
      restoreDatabaseFile({ target: world.target, backupId, manifest: manifestUsed, database, identity: world.identity, masterKey: world.masterKey, outFile });
    const entry = await restore(workspaceIds[0]!);
    expect(entry.database).toBe(workspaceIds[0]);
    expect(fs.statSync(outFile).size).toBe(entry.plaintextBytes);
    fs.rmSync(outFile);

    const lying = { ...manifest, files: manifest.files.map((file) => (file.database === workspaceIds[1] ? { ...file, plaintextSha256: "0".repeat(64) } : file)) };
    await expect(restore(workspaceIds[1]!, lying)).rejects.toThrow(/plaintext does not match the manifest/);
    expect(fs.existsSync(outFile)).toBe(false);
    await expect(restore("ws_00000000000000000000000000000000")).rejects.toThrow(/holds no workspace/);
  });
});
