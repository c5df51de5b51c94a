import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { artifacts, knowledge } from "@/db/workspace/schema";
import { users } from "@/db/control/schema";
import { runBackup } from "@/lib/backup/backup";
import { restoreBackup } from "@/lib/backup/restore";
import { configuredTarget } from "@/lib/backup/targets";
import { getConfig, setConfigForTests } from "@/lib/config";
import { closeStore, getControlDb, getStore, withWorkspace } from "@/lib/db/store";
import { backupWorld, cleanupWorld, populate, type BackupWorld } from "./backup-fixture";
import { startS3Server, type TestS3Server } from "./s3-server";
import { testConfig } from "./store";

let s3: TestS3Server;
let world: BackupWorld;
let bucketCount = 0;
let bucket = "";

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.stop();
});
beforeEach(async () => {
  bucket = `restore-${++bucketCount}`;
  await s3.createBucket(bucket);
  world = await backupWorld(s3.env(bucket, "prod/"));
});
afterEach(async () => {
  await cleanupWorld(world);
});

/** Everything a workspace holds that this test put there, in a stable order. */
async function contentsOf(workspaceId: string) {
  return withWorkspace(workspaceId, async (db) => ({
    knowledge: await db.db.select().from(knowledge).orderBy(knowledge.id),
    artifacts: (await db.db.select().from(artifacts).orderBy(artifacts.name)).map((row) => ({ ...row, bytes: createHash("sha256").update(row.bytes).digest("hex") })),
  }));
}

describe("backups to S3, end to end", () => {
  it("runBackup writes to the configured bucket, and restoreBackup from it gives back identical data", async () => {
    const { workspaceIds } = await populate(2);
    // 20 MB of random bytes in one workspace: its .age goes up as a multipart upload.
    const big = randomBytes(20 * 1024 * 1024);
    const now = Date.now();
    await withWorkspace(workspaceIds[1]!, (db) =>
      db.transaction(async (tx) => {
        await tx.insert(artifacts).values({ name: "big.bin", contentType: "application/octet-stream", bytes: big, size: big.length, sha256: createHash("sha256").update(big).digest("hex"), createdAt: now, updatedAt: now, updatedBy: "user:test" });
      }),
    );
    const before = { users: await (await getControlDb()).db.select().from(users).orderBy(users.id), workspaces: await Promise.all(workspaceIds.map(contentsOf)) };

    // No target passed: the config's bucket is where it goes, and nothing lands in the backup dir.
    const target = configuredTarget(getConfig());
    expect(target.description).toBe(`s3://${bucket}/prod/ at ${s3.endpoint}`);
    const result = await runBackup({ now: Date.now() });
    expect(result.files).toBe(3);
    expect(fs.existsSync(world.backupDir)).toBe(false);
    expect(await target.list()).toEqual([result.backupId]);
    await s3.sync();
    expect(s3.requests.some((request) => request.startsWith(`PUT /${bucket}/prod/${result.backupId}/workspaces/${workspaceIds[1]}.db.age?`) && request.includes("partNumber="))).toBe(true);

    const to = path.join(world.scratch, "restored");
    const restored = await restoreBackup({ target, backupId: result.backupId, identity: world.identity, masterKey: world.masterKey, to });
    expect(restored.files).toBe(3);

    await closeStore();
    setConfigForTests(testConfig(to));
    expect(getStore().masterKey.equals(world.masterKey)).toBe(true);
    const after = { users: await (await getControlDb()).db.select().from(users).orderBy(users.id), workspaces: await Promise.all(workspaceIds.map(contentsOf)) };
    expect(after).toEqual(before);
    expect(after.workspaces[1]!.artifacts.find((row) => row.name === "big.bin")?.bytes).toBe(createHash("sha256").update(big).digest("hex"));
  }, 120_000);

  it("refuses to restore a set in which someone put an object its manifest does not list", async () => {
    await populate(1);
    const { backupId } = await runBackup({ now: Date.now() });
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `prod/${backupId}/workspaces/ws_${"0".repeat(32)}.db.age`, Body: "planted" }));
    const to = path.join(world.scratch, "restored");
    await expect(restoreBackup({ target: configuredTarget(getConfig()), backupId, identity: world.identity, masterKey: world.masterKey, to })).rejects.toThrow(/holds files its manifest does not list/);
    expect(fs.existsSync(to)).toBe(false);
  });

  it("refuses to restore a set whose object was swapped in the bucket", async () => {
    await populate(1);
    const { backupId } = await runBackup({ now: Date.now() });
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `prod/${backupId}/control.db.age`, Body: randomBytes(4096) }));
    const to = path.join(world.scratch, "restored");
    await expect(restoreBackup({ target: configuredTarget(getConfig()), backupId, identity: world.identity, masterKey: world.masterKey, to })).rejects.toThrow(/control.db.*(cannot be decrypted with this identity, or is damaged|does not match the manifest|longer than)/);
    expect(fs.existsSync(to)).toBe(false);
  });
});
