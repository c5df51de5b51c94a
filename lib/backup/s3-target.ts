import { Readable } from "node:stream";
import type * as ClientS3 from "@aws-sdk/client-s3";
import type { ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import type * as LibStorage from "@aws-sdk/lib-storage";
import type { Config } from "../config";
import { BACKUP_ID_PATTERN, isSetFileName, MANIFEST_FILE } from "./manifest";
import { BackupNotFoundError, type BackupSetEntry, type BackupTarget } from "./target";

/**
 * A backup target in an S3-compatible bucket. A set is every key under
 * `<ENCLAVE_BACKUP_S3_PREFIX><backupId>/`, named as lib/backup/manifest.ts names its files.
 *
 * S3 makes an object visible only once its PUT (or its multipart upload's Complete) succeeds,
 * so a file is never seen half written; a failed multipart upload is aborted by lib-storage.
 * The bucket's own lifecycle rule (AbortIncompleteMultipartUpload) is the backstop for a
 * process killed mid-upload, which leaves parts that no listing shows but the bill does.
 */

/** S3's own limits: ListObjectsV2 returns at most 1,000 keys a page, DeleteObjects takes at most 1,000 keys. */
const MAX_KEYS_PER_REQUEST = 1000;
/** Parts are buffered in memory: at most UPLOAD_QUEUE × UPLOAD_PART_BYTES (32 MiB) per upload, whatever the file's size. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_QUEUE = 4;
/** HEAD requests in flight while listing: enough to list 30 days of sets quickly, few enough to be polite. */
const HEAD_CONCURRENCY = 8;

type S3Settings = Pick<
  Config,
  | "ENCLAVE_BACKUP_S3_BUCKET"
  | "ENCLAVE_BACKUP_S3_ENDPOINT"
  | "ENCLAVE_BACKUP_S3_REGION"
  | "ENCLAVE_BACKUP_S3_PREFIX"
  | "ENCLAVE_BACKUP_S3_ACCESS_KEY_ID"
  | "ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY"
>;

/** Tuning for tests: smaller pages show pagination without writing thousands of objects. */
export type S3TargetOptions = { pageSize?: number; maxAttempts?: number };

type Sdk = Pick<typeof ClientS3, "S3Client" | "ListObjectsV2Command" | "HeadObjectCommand" | "GetObjectCommand" | "DeleteObjectsCommand"> & Pick<typeof LibStorage, "Upload">;
let sdkLoading: Promise<Sdk> | undefined;

/**
 * The AWS SDK, imported on first use: it takes ~300 ms to load, which every process that loads
 * the jobs table (the CLI, the server) would otherwise pay even with backups going to a directory.
 */
function loadSdk(): Promise<Sdk> {
  sdkLoading ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]).then(([s3, storage]) => ({
    S3Client: s3.S3Client,
    ListObjectsV2Command: s3.ListObjectsV2Command,
    HeadObjectCommand: s3.HeadObjectCommand,
    GetObjectCommand: s3.GetObjectCommand,
    DeleteObjectsCommand: s3.DeleteObjectsCommand,
    Upload: storage.Upload,
  }));
  return sdkLoading;
}

/** An S3 request that failed, said in words an operator can act on, with no credential in it. */
export class S3TargetError extends Error {
  override name = "S3TargetError";
}

export function s3Target(config: S3Settings, options: S3TargetOptions = {}): BackupTarget {
  const bucket = config.ENCLAVE_BACKUP_S3_BUCKET;
  if (!bucket) throw new S3TargetError("ENCLAVE_BACKUP_S3_BUCKET is not set");
  const prefix = config.ENCLAVE_BACKUP_S3_PREFIX;
  const endpoint = config.ENCLAVE_BACKUP_S3_ENDPOINT;
  const pageSize = Math.min(options.pageSize ?? MAX_KEYS_PER_REQUEST, MAX_KEYS_PER_REQUEST);
  const description = `s3://${bucket}/${prefix}${endpoint ? ` at ${new URL(endpoint).origin}` : ""}`;
  const keyId = config.ENCLAVE_BACKUP_S3_ACCESS_KEY_ID;
  const secret = config.ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY;

  const clientConfig: ClientS3.S3ClientConfig = {
    region: config.ENCLAVE_BACKUP_S3_REGION,
    maxAttempts: options.maxAttempts ?? 3,
    // Unset, the SDK's default chain applies (AWS_* variables, shared config, instance and container roles).
    ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : {}),
    // Self-hosted S3 (MinIO, Ceph, Garage, s3rver) rarely has wildcard DNS for bucket subdomains.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Since 3.729 the SDK adds CRC32 checksums to every upload, sent as aws-chunked trailers on
    // streams. Many S3-compatible servers (s3rver among them) store those chunk frames as the
    // object's bytes. Our integrity check is the manifest's SHA-256 of every file, so send a
    // checksum only where S3 requires one (DeleteObjects) and do not demand one back.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  let connecting: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  const connect = () => (connecting ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.S3Client(clientConfig) })));

  const setPrefix = (backupId: string) => {
    if (!BACKUP_ID_PATTERN.test(backupId)) throw new S3TargetError(`"${backupId.slice(0, 80)}" is not a backup id`);
    return `${prefix}${backupId}/`;
  };
  const fileKey = (backupId: string, file: string) => {
    if (!isSetFileName(file)) throw new S3TargetError(`"${file.slice(0, 80)}" is not a file name inside a backup set`);
    return setPrefix(backupId) + file;
  };
  const fail = (action: string, error: unknown) => describeS3Error(error, { action, bucket, endpoint, secrets: [keyId, secret] });

  async function* pages(input: { Prefix: string; Delimiter?: string }): AsyncGenerator<ListObjectsV2CommandOutput> {
    let ContinuationToken: string | undefined;
    const { sdk, client } = await connect();
    do {
      const page = await client
        .send(new sdk.ListObjectsV2Command({ Bucket: bucket, ...input, MaxKeys: pageSize, ContinuationToken }))
        .catch((error: unknown) => {
          throw fail(`listing ${input.Prefix}`, error);
        });
      yield page;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async function manifestExists(backupId: string): Promise<boolean> {
    const { sdk, client } = await connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: fileKey(backupId, MANIFEST_FILE) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw fail(`reading ${backupId}/${MANIFEST_FILE}`, error);
    }
  }

  async function sets(): Promise<BackupSetEntry[]> {
    // One listing by set (Delimiter) and one HEAD per set: with nightly backups kept 30 days
    // that is ~30 HEADs, where listing every key would read sets × databases keys.
    const ids: string[] = [];
    for await (const page of pages({ Prefix: prefix, Delimiter: "/" })) {
      for (const common of page.CommonPrefixes ?? []) {
        const id = common.Prefix?.slice(prefix.length, -1) ?? "";
        if (BACKUP_ID_PATTERN.test(id)) ids.push(id);
      }
    }
    const entries: BackupSetEntry[] = [];
    for (let i = 0; i < ids.length; i += HEAD_CONCURRENCY) {
      const batch = ids.slice(i, i + HEAD_CONCURRENCY);
      const found = await Promise.all(batch.map(manifestExists));
      entries.push(...batch.map((backupId, j) => ({ backupId, complete: found[j] === true })));
    }
    // Ids start with their UTC time (20261202T053000Z-…), so text order is time order.
    return entries.sort((a, b) => (a.backupId < b.backupId ? -1 : 1));
  }

  return {
    description,

    async write(backupId, file, body) {
      const Key = fileKey(backupId, file);
      const { sdk, client } = await connect();
      const upload = new sdk.Upload({ client, params: { Bucket: bucket, Key, Body: body }, partSize: UPLOAD_PART_BYTES, queueSize: UPLOAD_QUEUE, leavePartsOnError: false });
      try {
        await upload.done();
      } catch (error) {
        // A failing source stream is the caller's error (a snapshot or the encryption), not S3's;
        // what S3 then said (aborting the multipart upload) is beside the point.
        if (body.errored) throw body.errored;
        throw fail(`writing ${backupId}/${file}`, error);
      }
    },

    async read(backupId, file) {
      const Key = fileKey(backupId, file);
      const { sdk, client } = await connect();
      try {
        const response = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key }));
        if (!(response.Body instanceof Readable)) throw new S3TargetError(`S3 answered ${backupId}/${file} without a body`);
        return response.Body;
      } catch (error) {
        if (error instanceof S3TargetError) throw error;
        if (isNotFound(error)) throw new BackupNotFoundError(`backup ${backupId} has no ${file} in ${description}`);
        throw fail(`reading ${backupId}/${file}`, error);
      }
    },

    sets,

    async list() {
      return (await sets()).filter((set) => set.complete).map((set) => set.backupId);
    },

    async files(backupId) {
      const Prefix = setPrefix(backupId);
      // Every key, whatever its name: a stray object is exactly what a restore must see. (An
      // unfinished multipart upload is no object, so half-written files never show.)
      const files: string[] = [];
      for await (const page of pages({ Prefix })) {
        for (const object of page.Contents ?? []) if (object.Key) files.push(object.Key.slice(Prefix.length));
      }
      if (files.length === 0) throw new BackupNotFoundError(`no backup ${backupId} in ${description}`);
      return files.sort();
    },

    async remove(backupId) {
      const Prefix = setPrefix(backupId);
      // The manifest first: from then on the set is no longer listed as complete, even if the
      // rest of the delete is interrupted (the next prune removes the remainder).
      await deleteKeys([Prefix + MANIFEST_FILE]);
      // Collect every key before deleting: deleting while paginating can skip keys on some servers.
      const keys: string[] = [];
      for await (const page of pages({ Prefix })) {
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      }
      for (let i = 0; i < keys.length; i += MAX_KEYS_PER_REQUEST) await deleteKeys(keys.slice(i, i + MAX_KEYS_PER_REQUEST));
    },
  };

  async function deleteKeys(keys: string[]): Promise<void> {
    const { sdk, client } = await connect();
    const response = await client
      .send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }))
      .catch((error: unknown) => {
        throw fail(`deleting ${keys.length} objects`, error);
      });
    const failed = (response.Errors ?? []).filter((entry) => entry.Code !== "NoSuchKey");
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new S3TargetError(`S3 refused to delete ${failed.length} of ${keys.length} objects in bucket "${bucket}" (first: ${first.Key ?? "?"}: ${first.Code ?? "error"})`);
    }
  }
}

/** The HTTP status of an error S3 answered (the SDK's S3ServiceException, recognised without loading the SDK). */
function s3Status(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof metadata?.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error) || error.name === "NoSuchBucket") return false;
  return error.name === "NoSuchKey" || error.name === "NotFound" || s3Status(error) === 404;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/**
 * Turns what the SDK throws into one sentence: which bucket, what went wrong, what to check.
 * Never the SDK error itself (its $response and cause carry request headers), and any
 * configured credential that a server echoed back is cut out.
 */
export function describeS3Error(
  error: unknown,
  context: { action: string; bucket: string; endpoint: string | undefined; secrets: (string | undefined)[] },
): S3TargetError {
  const where = `S3 bucket "${context.bucket}"${context.endpoint ? ` at ${new URL(context.endpoint).origin}` : ""}`;
  const name = error instanceof Error ? error.name : "";
  const status = s3Status(error);
  const code = networkCode(error);
  let message: string;
  if (name === "NoSuchBucket") message = `${where} does not exist (${context.action})`;
  else if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || name === "InvalidToken" || name === "ExpiredToken") {
    message = `${where} refused the credentials (${name}) while ${context.action}: check ENCLAVE_BACKUP_S3_ACCESS_KEY_ID and ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY`;
  } else if (name === "AccessDenied" || status === 403) {
    message = `${where} denied access while ${context.action}: the credentials need s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on it`;
  } else if (name === "CredentialsProviderError") {
    message = `no credentials for ${where}: set ENCLAVE_BACKUP_S3_ACCESS_KEY_ID and ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY, or configure the AWS SDK's default chain`;
  } else if (code) message = `cannot reach ${where} (${code}) while ${context.action}: check ENCLAVE_BACKUP_S3_ENDPOINT and the network`;
  else if (name === "TimeoutError") message = `${where} did not answer in time while ${context.action}`;
  else {
    const detail = error instanceof Error ? error.message : String(error);
    message = `${where} failed while ${context.action}: ${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${detail.slice(0, 300)}`;
  }
  for (const secret of context.secrets) if (secret) message = message.split(secret).join("[redacted]");
  return new S3TargetError(message);
}

/** ECONNREFUSED and friends, wherever the SDK put them (the error, its cause, an AggregateError's first). */
function networkCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const candidate = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof candidate.code === "string" && NETWORK_CODES.has(candidate.code)) return candidate.code;
    current = candidate.cause ?? candidate.errors?.[0];
  }
  return undefined;
}
