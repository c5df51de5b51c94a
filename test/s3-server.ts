import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3_TEST_CREDENTIALS, S3_TEST_REGION } from "./s3-credentials";

export { S3_TEST_CREDENTIALS, S3_TEST_REGION };

/**
 * A real S3-compatible server for tests (and the backup benchmark): s3rver on a free loopback
 * port over a temp directory, in a child process, behind a SigV4 verifier — see
 * test/s3-server-process.ts for why each of those.
 */
export type TestS3Server = {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Where s3rver keeps its objects. */
  directory: string;
  /** Every request that reached s3rver (`METHOD /bucket/key?query`), as of the last sync(). */
  requests: string[];
  /** Requests the verifier refused, by S3 error code, as of the last sync(). */
  refused: string[];
  /** Waits until every request the server has seen so far is in `requests` and `refused`. */
  sync(): Promise<void>;
  /** A client with the right credentials, for arranging a test. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** The env variables an Enclave config needs to use `bucket` on this server. */
  env(bucket: string, prefix?: string): Record<string, string>;
  /** The child's process id (its RSS is not the caller's). */
  pid: number;
  stop(): Promise<void>;
};

type Report = { port?: number; request?: string; refused?: string; pong?: number };

export async function startS3Server(): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-s3-"));
  const child: ChildProcess = fork(path.join(import.meta.dirname, "s3-server-process.ts"), [directory], {
    execArgv: ["--openssl-legacy-provider", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const requests: string[] = [];
  const refused: string[] = [];
  const pongs = new Map<number, () => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the test S3 server exited (${code})`)));
    child.on("message", (message: Report) => {
      if (message.port !== undefined) resolve(message.port);
      if (message.request !== undefined) requests.push(message.request);
      if (message.refused !== undefined) refused.push(message.refused);
      if (message.pong !== undefined) pongs.get(message.pong)?.();
    });
  });
  child.removeAllListeners("exit");
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, forcePathStyle: true, region: S3_TEST_REGION, credentials: S3_TEST_CREDENTIALS });
  let pings = 0;
  return {
    endpoint,
    directory,
    requests,
    refused,
    pid: child.pid!,
    client,
    // IPC messages arrive in order: once the pong is back, every report sent before it is in.
    sync: () =>
      new Promise<void>((resolve) => {
        const ping = ++pings;
        pongs.set(ping, () => {
          pongs.delete(ping);
          resolve();
        });
        child.send({ ping });
      }),
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    env(bucket, prefix = "enclave/") {
      return {
        ENCLAVE_BACKUP_S3_BUCKET: bucket,
        ENCLAVE_BACKUP_S3_ENDPOINT: endpoint,
        ENCLAVE_BACKUP_S3_REGION: S3_TEST_REGION,
        ENCLAVE_BACKUP_S3_PREFIX: prefix,
        ENCLAVE_BACKUP_S3_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
        ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      };
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
