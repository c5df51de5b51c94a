/**
 * The child process test/s3-server.ts starts: s3rver behind a SigV4 verifier, on a free
 * loopback port over the directory given in argv[2]. It reports `{ port }` once listening, then
 * every request as `{ request }` or `{ refused }`, and answers `{ ping }` with `{ pong }`.
 *
 * In a process of its own because s3rver encrypts ListObjectsV2 continuation tokens with DES,
 * which Node 20's OpenSSL 3 refuses unless started with --openssl-legacy-provider — a flag the
 * test process should not carry. (It also keeps s3rver's file I/O off the tests' event loop.)
 *
 * s3rver checks that a SigV4 request's access key id exists but never its signature (its V4
 * support "is unimplemented"), so a wrong secret would pass. The verifier here computes the
 * canonical request and HMAC chain of AWS's SigV4 spec against S3_TEST_CREDENTIALS, so tests of
 * wrong credentials mean what they say. Unsigned requests are refused too, as a private
 * bucket would.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import S3rver from "s3rver";
import { S3_TEST_CREDENTIALS } from "./s3-credentials";

type Report = { port: number } | { request: string } | { refused: string } | { pong: number };
const report = (message: Report) => process.send?.(message);

const directory = process.argv[2];
if (!directory) throw new Error("usage: s3-server-process <directory>");
const s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: process.env.S3RVER_LOG !== "1", directory });
const address = await s3rver.run();
const http = (s3rver as unknown as { httpServer: Server }).httpServer;
const [koa] = http.listeners("request") as RequestListener[];
if (!koa) throw new Error("s3rver has no request handler");
http.removeAllListeners("request");
http.on("request", (request: IncomingMessage, response: ServerResponse) => {
  const refusal = checkSignature(request);
  if (!refusal) {
    report({ request: `${request.method} ${request.url}` });
    return void koa(request, response);
  }
  report({ refused: refusal });
  response.writeHead(403, { "content-type": "application/xml" });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal}</Code><Message>refused by the test's SigV4 verifier</Message></Error>`);
});
process.on("message", (message: { ping?: number }) => {
  if (typeof message.ping === "number") report({ pong: message.ping });
});
// The parent gone (a test runner killed), nothing should be left listening.
process.on("disconnect", () => process.exit(0));
report({ port: address.port });

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** null when the request is signed with S3_TEST_CREDENTIALS (SigV4, header form), else the S3 error code. */
function checkSignature(request: IncomingMessage): string | null {
  const match = AUTHORIZATION.exec(request.headers.authorization ?? "");
  if (!match) return "AccessDenied";
  const [, accessKeyId, date, region, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
  if (accessKeyId !== S3_TEST_CREDENTIALS.accessKeyId) return "InvalidAccessKeyId";
  const amzDate = header(request, "x-amz-date");
  const payloadHash = header(request, "x-amz-content-sha256");
  if (!amzDate.startsWith(date) || !payloadHash) return "AccessDenied";
  const url = new URL(request.url ?? "/", "http://placeholder");
  const query = [...url.searchParams]
    .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
    .sort()
    .join("&");
  const canonicalHeaders = signedHeaders
    .split(";")
    .map((name) => `${name}:${header(request, name)}\n`)
    .join("");
  const canonicalRequest = [request.method, url.pathname, query, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  let key: Buffer = Buffer.from(`AWS4${S3_TEST_CREDENTIALS.secretAccessKey}`);
  for (const part of [date, region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, "hex")) ? null : "SignatureDoesNotMatch";
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value.join(",") : (value ?? "")).trim().replace(/\s+/g, " ");
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
