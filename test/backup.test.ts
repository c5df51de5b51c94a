import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { inspect } from "node:util";
import { and, desc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auditLog as controlAuditLogTable, workspaces } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { auditSigner } from "@/lib/audit/checkpoint";
import { runBackup } from "@/lib/backup/backup";
import { DirectoryTarget } from "@/lib/backup/directory-target";
import { verifyManifest, MANIFEST_FILE, type Manifest } from "@/lib/backup/manifest";
import { backupIdTime, pruneBackups } from "@/lib/backup/prune";
import { restoreBackup, restoreDatabaseFile } from "@/lib/backup/restore";
import { snapshotDatabase, withPrivateTempDir } from "@/lib/backup/snapshot";
import type { BackupTarget } from "@/lib/backup/target";
import { ConfigError } from "@/lib/config";
import { deriveControlKey, deriveWorkspaceKey } from "@/lib/crypto/keys";
import { Connection } from "@/lib/db/connection";
import { getControlDb, getStore } from "@/lib/db/store";
import { findJob } from "@/lib/jobs/jobs";
import { runJob } from "@/lib/jobs/runner";
import { logger } from "@/lib/log/logger";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { backupWorld, cleanupWorld, populate, type BackupWorld } from "./backup-fixture";
import { makeTempDir, testConfig } from "./store";

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

const manifestOf = (backupId: string): Manifest => {
  const verdict = verifyManifest(fs.readFileSync(path.join(world.backupDir, backupId, MANIFEST_FILE), "utf8"), auditSigner(world.masterKey).publicKey);
  if (!verdict.ok) throw new Error(verdict.reason);
  return verdict.manifest;
};

describe("snapshots", () => {
  it("hold a prefix of the writes committed while they are taken, and the copy's audit chain verifies", async () => {
    const { userId, workspaceIds } = await populate(1);
    const workspaceId = workspaceIds[0]!;
    const access = await authorize({ kind: "user", userId }, workspaceId, "knowledge");
    let written = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await createKnowledge(access, { title: `w${written}`, body: "concurrent write", tags: [] });
        written += 1;
      }
    })();
    while (written < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = written;
    const { backupId } = await runBackup({ now: Date.now(), target: world.target });
    const after = written;
    while (written < after + 3) await new Promise((resolve) => setTimeout(resolve, 5));
    stop = true;
    await writer;

    const outFile = path.join(world.scratch, "concurrent.db");
    // restoreDatabaseFile checks integrity_check and the audit chain itself.
    await restoreDatabaseFile({ target: world.target, backupId, manifest: manifestOf(backupId), database: workspaceId, identity: world.identity, masterKey: world.masterKey, outFile });
    const copy = await Connection.open(outFile, deriveWorkspaceKey(world.masterKey, workspaceId), { create: false });
    const titles = (await copy.all("SELECT title FROM knowledge WHERE title LIKE 'w%'")).map((row) => String(row.title));
    const audited = await copy.all("SELECT count(*) AS n FROM audit_log WHERE action = 'knowledge.create'");
    await copy.close();
    expect(titles.length).toBeGreaterThanOrEqual(before);
    expect(titles.length).toBeLessThanOrEqual(after);
    // A prefix: every write up to the last one it holds, none skipped.
    expect(new Set(titles)).toEqual(new Set(Array.from({ length: titles.length }, (_, n) => `w${n}`)));
    // Each write and its audit row committed together: the snapshot holds both or neither.
    expect(Number(audited[0]?.n)).toBe(titles.length + 3);
  });

  it("are faithful copies: user_version, integrity, FTS5, same key", async () => {
    const { workspaceIds } = await populate(1);
    const workspaceId = workspaceIds[0]!;
    const source = getStore().workspaceFile(workspaceId);
    const key = deriveWorkspaceKey(world.masterKey, workspaceId);
    const live = await Connection.open(source, key, { create: false });
    await live.exec("PRAGMA user_version = 42");
    await live.close();
    await withPrivateTempDir("enclave-test-snap-", async (dir) => {
      const out = path.join(dir, "snap.db");
      const { schemaVersion } = await snapshotDatabase(source, key, out);
      expect(schemaVersion).toBeGreaterThan(0);
      expect(fs.statSync(out).mode & 0o777).toBe(0o600);
      // Still encrypted: no SQLite header in the clear.
      expect(fs.readFileSync(out).subarray(0, 15).toString()).not.toBe("SQLite format 3");
      const snap = await Connection.open(out, key, { create: false });
      expect(await snap.all("PRAGMA user_version")).toEqual([{ user_version: 42 }]);
      expect(await snap.all("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
      expect((await snap.all("SELECT title FROM knowledge_fts WHERE knowledge_fts MATCH 'zebra0'")).length).toBe(3);
      await snap.close();
      await expect(snapshotDatabase(source, key, out)).rejects.toThrow(/EEXIST/);
    });
  });

  it("of a workspace purged during the run are skipped, and deleted-but-held workspaces are backed up", async () => {
    const { workspaceIds } = await populate(3);
    const [held, purged] = workspaceIds;
    const control = await getControlDb();
    await control.db.update(workspaces).set({ deletedAt: Date.now(), deletedBy: "test", deletedWith: "owner", purgeAt: Date.now() + 86_400_000 }).where(eq(workspaces.id, held!));
    const result = await runBackup({
      now: Date.now(),
      target: world.target,
      // What a purge leaves once control.db's snapshot has been taken: the workspace's folder gone.
      onProgress: (progress) => {
        if (progress.database === "control" && progress.done) fs.rmSync(path.dirname(getStore().workspaceFile(purged!)), { recursive: true, force: true });
      },
    });
    expect(result).toMatchObject({ files: 3, skipped: 1 });
    expect(manifestOf(result.backupId).files.map((file) => file.database).sort()).toEqual(["control", held, workspaceIds[2]].sort());
  });
});

describe("runBackup", () => {
  it("is a skipped job, saying why, without recipients", async () => {
    await cleanupWorld(world);
    world = await backupWorld({ ENCLAVE_BACKUP_RECIPIENTS: "" });
    const result = await runJob(findJob("backup")!, "cli");
    expect(result).toEqual({ outcome: "skipped", reason: expect.stringMatching(/no backup recipients/) as string });
    expect(fs.existsSync(world.backupDir)).toBe(false);
  });

  it("runs as the backup job: audited backup.run, then the retention sweep", async () => {
    await populate(1);
    const result = await runJob(findJob("backup")!, "cli");
    expect(result).toMatchObject({ outcome: "ok", figures: { files: 2, pruned: 0, skipped: 0 } });
    const [backupId] = await world.target.list();
    const control = await getControlDb();
    const [row] = await control.db.select().from(controlAuditLogTable).where(and(eq(controlAuditLogTable.action, "backup.run"))).orderBy(desc(controlAuditLogTable.seq));
    expect(row).toMatchObject({ actorType: "system", actorId: "backup", target: backupId });
    expect(JSON.parse(row!.details)).toMatchObject({ files: 2, skipped: 0 });
  });

  it("removes its temp files when a write fails, and leaves the set without a manifest", async () => {
    await populate(1);
    const tmp = makeTempDir();
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const failing: BackupTarget = {
      ...world.target,
      description: "failing",
      sets: () => world.target.sets(),
      list: () => world.target.list(),
      files: (id) => world.target.files(id),
      remove: (id) => world.target.remove(id),
      read: (id, file) => world.target.read(id, file),
      write: async (id, file, body) => {
        if (file.startsWith("workspaces/")) throw new Error("disk full");
        return world.target.write(id, file, body);
      },
    };
    try {
      await expect(runBackup({ now: Date.now(), target: failing })).rejects.toThrow(/disk full/);
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect(await world.target.list()).toEqual([]);
      expect((await world.target.sets()).map((set) => set.complete)).toEqual([false]);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("logs no master key or derived key while backing up and restoring", async () => {
    const { workspaceIds } = await populate(1);
    const lines: string[] = [];
    for (const level of ["trace", "debug", "info", "warn", "error", "fatal"] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => void lines.push(inspect(args, { depth: 8 })));
    }
    try {
      // Through the runner, which logs the job's figures as it finishes.
      expect(await runJob(findJob("backup")!, "cli")).toMatchObject({ outcome: "ok" });
      const [backupId = ""] = await world.target.list();
      const to = path.join(world.scratch, "restored");
      await restoreBackup({ target: world.target, backupId, identity: world.identity, masterKey: world.masterKey, to });
      await expect(restoreBackup({ target: world.target, backupId, identity: world.identity, masterKey: world.masterKey, to })).rejects.toThrow();
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines.some((line) => line.includes("job finished"))).toBe(true);
    const keys = [world.masterKey, deriveControlKey(world.masterKey), deriveWorkspaceKey(world.masterKey, workspaceIds[0]!)].map((key) => key.toString("hex"));
    for (const line of lines) for (const key of keys) expect(line.toLowerCase()).not.toContain(key);
  });
});

describe("the directory target", () => {
  it("refuses ids and file names outside the set layout before touching a path", async () => {
    const body = () => Readable.from([Buffer.from("x")]);
    for (const id of ["../x", "..", "20261202T053000Z-1a2b3c/..", "/tmp/x", ""]) {
      await expect(world.target.write(id, "control.db.age", body())).rejects.toThrow(/not a backup id/);
      await expect(world.target.remove(id)).rejects.toThrow(/not a backup id/);
    }
    for (const file of ["../control.db.age", "workspaces/../../x.db.age", "workspaces/ws_x.db.age", "/etc/passwd", "control.db"]) {
      await expect(world.target.write("20261202T053000Z-1a2b3c", file, body())).rejects.toThrow(/not a file of a backup set/);
      await expect(world.target.read("20261202T053000Z-1a2b3c", file)).rejects.toThrow(/not a file of a backup set/);
    }
    expect(fs.existsSync(world.backupDir)).toBe(false);
  });

  it("names a file only once it is complete, and lists only sets with a manifest", async () => {
    const target = new DirectoryTarget(world.backupDir);
    const id = "20261202T053000Z-1a2b3c";
    const broken = new Readable({ read() { this.push(Buffer.from("half")); this.destroy(new Error("cut off")); } });
    await expect(target.write(id, "control.db.age", broken)).rejects.toThrow(/cut off/);
    expect(await target.files(id)).toEqual([]);
    await target.write(id, "control.db.age", Readable.from([Buffer.from("whole")]));
    expect(await target.list()).toEqual([]);
    expect(await target.sets()).toEqual([{ backupId: id, complete: false }]);
    await target.write(id, MANIFEST_FILE, Readable.from([Buffer.from("{}")]));
    expect(await target.list()).toEqual([id]);
    await expect(target.read(id, "workspaces/ws_00000000000000000000000000000000.db.age")).rejects.toThrow(/has no/);
    await target.remove(id);
    await target.remove(id);
    expect(await target.sets()).toEqual([]);
  });
});

describe("pruneBackups", () => {
  const DAY = 86_400_000;
  const idAt = (ms: number, suffix: string) => `${new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z")}-${suffix}`;

  async function makeSet(id: string, complete: boolean) {
    await world.target.write(id, "control.db.age", Readable.from([Buffer.from("x")]));
    if (complete) await world.target.write(id, MANIFEST_FILE, Readable.from([Buffer.from("{}")]));
  }

  it("removes complete sets past the retention and incomplete ones older than a day, never the newest complete set", async () => {
    const now = Date.UTC(2026, 11, 2, 5, 30);
    const old = idAt(now - 40 * DAY, "000001");
    const kept = idAt(now - 10 * DAY, "000002");
    const staleIncomplete = idAt(now - 2 * DAY, "000003");
    const runningIncomplete = idAt(now - 60_000, "000004");
    for (const [id, complete] of [[old, true], [kept, true], [staleIncomplete, false], [runningIncomplete, false]] as const) await makeSet(id, complete);
    expect(backupIdTime(old)).toBe(now - 40 * DAY);
    expect(await pruneBackups(world.target, now, 30)).toBe(2);
    expect((await world.target.sets()).map((set) => set.backupId)).toEqual([kept, runningIncomplete]);
    // Long after the last backup: the newest complete set stays, however old.
    expect(await pruneBackups(world.target, now + 365 * DAY, 30)).toBe(1);
    expect(await world.target.list()).toEqual([kept]);
  });
});

describe("ENCLAVE_BACKUP_DIR", () => {
  it("is refused inside the data dir, including a folder named like ..backups", () => {
    const dataDir = path.join(world.scratch, "data");
    for (const inside of [dataDir, path.join(dataDir, "backups"), path.join(dataDir, "..backups"), path.join(dataDir, "workspaces", "..", "b")]) {
      expect(() => testConfig(dataDir, { ENCLAVE_BACKUP_DIR: inside })).toThrow(ConfigError);
    }
    expect(testConfig(dataDir).backupDir).toBe(`${dataDir}-backups`);
    expect(testConfig(dataDir, { ENCLAVE_BACKUP_DIR: path.join(world.scratch, "elsewhere") }).backupDir).toBe(path.join(world.scratch, "elsewhere"));
  });
});
