import { createHash, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { Readable } from "node:stream";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/config";
import { S3TargetError, s3Target } from "@/lib/backup/s3-target";
import { BackupNotFoundError, type BackupTarget } from "@/lib/backup/target";
import { startS3Server, type TestS3Server } from "./s3-server";

let s3: TestS3Server;
let bucketCount = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.stop();
});

/** A fresh bucket per test, so no test sees another's sets. */
async function freshTarget(env: Record<string, string> = {}, options: Parameters<typeof s3Target>[1] = {}): Promise<{ target: BackupTarget; bucket: string }> {
  const bucket = `backups-${++bucketCount}`;
  await s3.createBucket(bucket);
  return { target: s3Target(config({ ...s3.env(bucket), ...env }), options), bucket };
}

function config(env: Record<string, string>) {
  return parseConfig({ ENCLAVE_DATA_DIR: "/tmp/enclave-s3-test-data", ...env });
}

const id = (n: number) => `20261202T05${String(Math.floor(n / 60) % 60).padStart(2, "0")}${String(n % 60).padStart(2, "0")}Z-${n.toString(16).padStart(6, "0")}`;

/** A workspace's file name in a set, for workspace number `n`. */
const wsFile = (n: number) => `workspaces/ws_${n.toString(16).padStart(32, "0")}.db.age`;

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function keysIn(bucket: string, Prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

/** A stream of `size` pseudo-random bytes made 1 MiB at a time, and the SHA-256 of what it yields. */
function generated(size: number): { stream: Readable; sha256: () => string } {
  const hash = createHash("sha256");
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(left, 1024 * 1024));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest("hex") };
}

describe("the S3 backup target", () => {
  it("writes files under <prefix><backupId>/ and reads them back byte for byte", async () => {
    const { target, bucket } = await freshTarget({ ENCLAVE_BACKUP_S3_PREFIX: "nightly/enclave/" });
    const small = randomBytes(1234);
    await target.write(id(1), "control.db.age", Readable.from([small]));
    await target.write(id(1), wsFile(1), Readable.from([Buffer.alloc(0)]));
    await target.write(id(1), "manifest.json", Readable.from([Buffer.from("{}\n")]));
    expect((await keysIn(bucket)).sort()).toEqual([`nightly/enclave/${id(1)}/control.db.age`, `nightly/enclave/${id(1)}/manifest.json`, `nightly/enclave/${id(1)}/${wsFile(1)}`]);
    expect((await bytesOf(await target.read(id(1), "control.db.age"))).equals(small)).toBe(true);
    expect((await bytesOf(await target.read(id(1), wsFile(1)))).length).toBe(0);
    expect(await target.files(id(1))).toEqual(["control.db.age", "manifest.json", wsFile(1)]);
    expect(target.description).toBe(`s3://${bucket}/nightly/enclave/ at ${s3.endpoint}`);
  });

  it("streams a file larger than two parts as a multipart upload, and reads it back byte-exact", async () => {
    const { target } = await freshTarget();
    const requestsBefore = s3.requests.length;
    const size = 17 * 1024 * 1024 + 12_345; // three 8 MiB parts, the last one short
    const source = generated(size);
    await target.write(id(2), "control.db.age", source.stream);
    const back = createHash("sha256");
    let length = 0;
    for await (const chunk of await target.read(id(2), "control.db.age")) {
      back.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    expect(length).toBe(size);
    expect(back.digest("hex")).toBe(source.sha256());
    await s3.sync();
    const parts = s3.requests.slice(requestsBefore).filter((request) => /^PUT .*[?&]partNumber=\d+&uploadId=|^PUT .*[?&]uploadId=.*partNumber=/.test(request));
    expect(parts).toHaveLength(3); // 8 MiB parts: 8 + 8 + 1

  });

  it("lists only complete sets (those with a manifest.json), oldest first", async () => {
    // Pages of 7: S3 counts common prefixes towards MaxKeys (s3rver does not, so here the
    // sets come in one page; the next test shows the paging itself against s3rver).
    const { target, bucket } = await freshTarget({}, { pageSize: 7 });
    const complete: string[] = [];
    for (let n = 40; n >= 10; n -= 1) {
      await target.write(id(n), "control.db.age", Readable.from([Buffer.from("x")]));
      if (n % 3 !== 0) {
        await target.write(id(n), "manifest.json", Readable.from([Buffer.from("{}")]));
        complete.push(id(n));
      }
    }
    // Not sets: keys outside a set, folders that are not backup ids, another prefix.
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: "enclave/README.txt", Body: "hello" }));
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: "enclave/not-an-id/manifest.json", Body: "{}" }));
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `other/${id(5)}/manifest.json`, Body: "{}" }));
    expect(await target.list()).toEqual(complete.sort());
    const sets = await target.sets();
    expect(sets.map((set) => set.backupId)).toEqual(Array.from({ length: 31 }, (_, n) => id(n + 10)));
    expect(sets.filter((set) => !set.complete).map((set) => set.backupId)).toEqual([id(12), id(15), id(18), id(21), id(24), id(27), id(30), id(33), id(36), id(39)]);
  });

  it("paginates ListObjectsV2 past S3's 1,000 keys a page, and removes a set of more than 1,000 files in batches", async () => {
    const { target, bucket } = await freshTarget();
    const files = Array.from({ length: 1005 }, (_, n) => wsFile(n));
    for (let i = 0; i < files.length; i += 50) {
      await Promise.all(files.slice(i, i + 50).map((file) => target.write(id(3), file, Readable.from([Buffer.from(file)]))));
    }
    await target.write(id(3), "manifest.json", Readable.from([Buffer.from("{}")]));
    await target.write(id(4), "manifest.json", Readable.from([Buffer.from("{}")]));
    expect(await target.list()).toEqual([id(3), id(4)]);
    expect((await keysIn(bucket, `enclave/${id(3)}/`)).length).toBe(1006);
    expect(await target.files(id(3))).toEqual([...files, "manifest.json"].sort());

    await s3.sync();
    const before = s3.requests.length;
    await target.remove(id(3));
    await s3.sync();
    const made = s3.requests.slice(before);
    expect(made.filter((request) => request.startsWith("GET ") && request.includes("list-type=2") && request.includes("continuation-token="))).toHaveLength(1);
    // The manifest, then 1,000 + 5 keys. (s3rver sometimes answers a batch 500 while it is still
    // removing the folders of the one before, and the SDK's retry then succeeds: hence "at least".)
    expect(made.filter((request) => request.startsWith("POST ") && request.includes("?delete")).length).toBeGreaterThanOrEqual(3);
    expect(await keysIn(bucket, `enclave/${id(3)}/`)).toEqual([]);
    expect(await target.list()).toEqual([id(4)]);
    // The neighbour is untouched, and removing a set already gone is not an error.
    expect((await bytesOf(await target.read(id(4), "manifest.json"))).toString()).toBe("{}");
    await target.remove(id(3));
  }, 120_000);

  it("answers BackupNotFoundError for a missing file or set", async () => {
    const { target } = await freshTarget();
    await target.write(id(6), "control.db.age", Readable.from([Buffer.from("x")]));
    await expect(target.read(id(6), "manifest.json")).rejects.toBeInstanceOf(BackupNotFoundError);
    await expect(target.read(id(7), "control.db.age")).rejects.toBeInstanceOf(BackupNotFoundError);
    await expect(target.files(id(7))).rejects.toBeInstanceOf(BackupNotFoundError);
  });

  it("leaves nothing under the name when the source stream fails mid-upload, and does not list the set", async () => {
    const { target, bucket } = await freshTarget();
    const broken = new Readable({
      read() {
        this.push(randomBytes(1024 * 1024));
      },
    });
    let sent = 0;
    broken.on("data", () => {
      sent += 1;
      if (sent === 20) broken.destroy(new Error("the snapshot failed"));
    });
    await expect(target.write(id(8), "control.db.age", broken)).rejects.toThrow("the snapshot failed");
    expect(await keysIn(bucket)).toEqual([]);
    expect(await target.list()).toEqual([]);
    expect(await target.sets()).toEqual([]);
    // A set whose manifest never came is not listed either, though its files are there.
    await target.write(id(9), "control.db.age", Readable.from([Buffer.from("x")]));
    expect(await target.list()).toEqual([]);
    expect(await target.sets()).toEqual([{ backupId: id(9), complete: false }]);
  });

  it("refuses backup ids and file names that would step outside the set", async () => {
    const { target, bucket } = await freshTarget();
    const body = () => Readable.from([Buffer.from("x")]);
    for (const backupId of ["../x", "", "20261202T053000Z-1a2b3c/..", "latest", `${id(1)}/x`]) {
      await expect(target.write(backupId, "control.db.age", body())).rejects.toBeInstanceOf(S3TargetError);
      await expect(target.read(backupId, "control.db.age")).rejects.toBeInstanceOf(S3TargetError);
      await expect(target.remove(backupId)).rejects.toBeInstanceOf(S3TargetError);
      await expect(target.files(backupId)).rejects.toBeInstanceOf(S3TargetError);
    }
    for (const file of ["../manifest.json", "/control.db.age", "workspaces/../../x", "a//b", "", "workspaces/", ".", "x\ny", "a/./b", "workspaces/ws_abc.db.age", "notes.txt", "workspaces/ws_x/../../control.db.age"]) {
      await expect(target.write(id(1), file, body())).rejects.toBeInstanceOf(S3TargetError);
      await expect(target.read(id(1), file)).rejects.toBeInstanceOf(S3TargetError);
    }
    expect(await keysIn(bucket)).toEqual([]);
  });
});

describe("S3 failures an operator will meet", () => {
  const wrong = { ENCLAVE_BACKUP_S3_ACCESS_KEY_ID: "AKIAWRONGKEYID0000001", ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY: "wrong-secret-Zq8vT3uXk2" };

  function expectNoSecrets(error: unknown, secrets: string[]) {
    const shown = `${String(error)}\n${inspect(error, { depth: 5 })}\n${JSON.stringify(error)}`;
    for (const secret of secrets) expect(shown).not.toContain(secret);
  }

  it("refuses a wrong secret (the signature does not match), saying which variables to check, without the secret", async () => {
    const { bucket } = await freshTarget();
    const target = s3Target(config({ ...s3.env(bucket), ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY: wrong.ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY }), { maxAttempts: 1 });
    await s3.sync();
    const refusedBefore = s3.refused.length;
    const error = await target.write(id(1), "control.db.age", Readable.from([Buffer.from("x")])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3TargetError);
    expect((error as Error).message).toMatch(/refused the credentials \(SignatureDoesNotMatch\).*ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY/);
    expectNoSecrets(error, [wrong.ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY]);
    await s3.sync();
    expect(s3.refused.slice(refusedBefore)).toContain("SignatureDoesNotMatch");
    await expect(target.list()).rejects.toThrow(/refused the credentials/);
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("refuses an unknown access key id, without it or the secret in the message", async () => {
    const { bucket } = await freshTarget();
    const target = s3Target(config({ ...s3.env(bucket), ...wrong }), { maxAttempts: 1 });
    for (const attempt of [() => target.list(), () => target.read(id(1), "manifest.json"), () => target.remove(id(1))]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3TargetError);
      expect((error as Error).message).toMatch(/refused the credentials \(InvalidAccessKeyId\)/);
      expectNoSecrets(error, Object.values(wrong));
    }
  });

  it("says when the bucket does not exist", async () => {
    const target = s3Target(config(s3.env("no-such-bucket")), { maxAttempts: 1 });
    await expect(target.list()).rejects.toThrow(`S3 bucket "no-such-bucket" at ${s3.endpoint} does not exist`);
    await expect(target.write(id(1), "manifest.json", Readable.from([Buffer.from("{}")]))).rejects.toThrow(/does not exist/);
  });

  it("says when the endpoint cannot be reached, without the credentials", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = await startS3Server();
    const endpoint = probe.endpoint;
    await probe.stop();
    const target = s3Target(config({ ...s3.env("backups"), ENCLAVE_BACKUP_S3_ENDPOINT: endpoint, ...wrong }), { maxAttempts: 1 });
    const error = await target.list().catch((e: unknown) => e);
    expect((error as Error).message).toBe(`cannot reach S3 bucket "backups" at ${endpoint} (ECONNREFUSED) while listing enclave/: check ENCLAVE_BACKUP_S3_ENDPOINT and the network`);
    expectNoSecrets(error, Object.values(wrong));
  });

  it("refuses unsigned requests (the test server is a private bucket)", async () => {
    const { bucket } = await freshTarget();
    const response = await fetch(`${s3.endpoint}/${bucket}?list-type=2`);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>AccessDenied</Code>");
  });
});
