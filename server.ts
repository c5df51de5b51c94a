/**
 * Enclave's process: validates the environment, opens control.db with the master key (and
 * stops with one clear line if either is wrong), builds the app if there is no build yet,
 * then serves Next.js behind a thin wrapper that gives each request its id and the security
 * headers, refuses methods and request targets nothing here serves, rotates session ids that
 * are due, and writes one JSON log line per request. The machine endpoints (REST, MCP, OAuth's
 * token calls, discovery, operator, webhooks, health) go from the wrapper to the machine router
 * (lib/router), not through Next.
 */
// Enclave sends nothing anywhere: Next's build and server telemetry are off, before Next loads.
process.env.NEXT_TELEMETRY_DISABLED = "1";

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { Duplex } from "node:stream";
import path from "node:path";
import { parse } from "cookie";
import { ConfigError, getConfig, type Config } from "./lib/config";
import { MasterKeyError } from "./lib/crypto/keys";
import { closeStore, getStore } from "./lib/db/store";
import { acquireLease, LeaseHeldError } from "./lib/db/lease";
import { finishInterruptedRotation } from "./lib/backup/key-rotation";
import { RotationError } from "./lib/backup/rotation-journal";
import { storageFault, StorageFullError } from "./lib/db/storage-health";
import { runWithRequestContext, type RequestContext } from "./lib/log/request-context";
import { logger } from "./lib/log/logger";
import { errorBody, errorResponse, HttpError } from "./lib/http/errors";
import { clientAddress } from "./lib/http/client-address";
import { requestTargetProblem } from "./lib/http/request-target";
import { securityHeaders } from "./lib/http/security-headers";
import { sessionCookie, sessionCookieName } from "./lib/auth/cookies";
import { rotateSessionIfDue } from "./lib/auth/sessions";
import { schedule } from "./lib/jobs/runner";
import { startJobScheduler } from "./lib/jobs/scheduler";
import { startAuditCheckpoints } from "./lib/audit/checkpoint-emitter";
import { isMachinePath, machineListener } from "./lib/router/machine-router";

type Handle = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

const dev = process.argv.includes("--dev");

function die(message: string): never {
  process.stderr.write(`enclave: ${message}\n`);
  process.exit(1);
}

async function openStorage(): Promise<Config> {
  try {
    const config = getConfig();
    // A schedule naming no job is a configuration error like any other: stop before serving.
    schedule();
    // The data dir is this process's while it serves: `enclave key rotate` refuses meanwhile.
    const lease = acquireLease(config.dataDir, "server");
    process.on("exit", lease.release);
    // Never serve over half-re-keyed files: a rotation a crash cut short is finished first.
    const rotated = await finishInterruptedRotation((step) => logger.info({ file: step.file, outcome: step.outcome }, "key rotation: file re-keyed"));
    if (rotated) logger.warn({ ...rotated }, "finished a master-key rotation that was interrupted, before serving");
    await getStore().control;
    return config;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof MasterKeyError || error instanceof RotationError || error instanceof LeaseHeldError) die(error.message);
    throw error;
  }
}

/** Swaps a due session id for a fresh one, on the way in (for Next) and on the way out (cookie). */
async function rotateSession(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // Clerk rotates its own short-lived session tokens; a local cookie left from before the switch opens nothing there.
  if (getConfig().ENCLAVE_AUTH_PROVIDER !== "local") return;
  const name = sessionCookieName();
  const token = parse(req.headers.cookie ?? "")[name];
  if (!token) return;
  // A full control.db cannot take the new id: the current one stays valid, and the request (a read, perhaps) goes on.
  const rotated = await rotateSessionIfDue(token).catch((error: unknown) => {
    if (storageFault(error) instanceof StorageFullError) return null;
    throw error;
  });
  if (!rotated) return;
  res.appendHeader("set-cookie", sessionCookie(rotated.token, rotated.expiresAt));
  req.headers.cookie = (req.headers.cookie ?? "").replace(`${name}=${token}`, `${name}=${rotated.token}`);
}

/**
 * Every response gets each security header it has not set itself, whoever writes it: Next,
 * a route, or this wrapper. Patching writeHead catches implicit writes too (a bare res.end).
 */
function withSecurityHeaders(res: http.ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.writeHead = (...args: unknown[]) => {
    for (const [name, value] of Object.entries(securityHeaders)) if (!res.hasHeader(name)) res.setHeader(name, value);
    return writeHead(...args);
  };
}

/** Writes an error in the one JSON shape (HEAD gets the status and headers alone). */
async function sendError(req: http.IncomingMessage, res: http.ServerResponse, error: HttpError, requestId: string): Promise<void> {
  const response = errorResponse(error, requestId);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(req.method === "HEAD" ? undefined : await response.text());
}

function serve(config: Config, next: Handle): http.RequestListener {
  const machine = machineListener();
  return (req, res) => {
    const started = performance.now();
    // Our id, always: a client-sent x-request-id is not trusted into logs and audit rows.
    const context: RequestContext = {
      requestId: randomUUID(),
      ...clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], config.ENCLAVE_TRUST_PROXY),
      userAgent: req.headers["user-agent"],
    };
    req.headers["x-request-id"] = context.requestId;
    res.setHeader("x-request-id", context.requestId);
    withSecurityHeaders(res);
    const pathname = (req.url ?? "/").split("?")[0];
    res.on("finish", () => {
      // The path only: query strings may carry codes or tokens.
      logger.info({
        requestId: context.requestId,
        method: req.method,
        path: pathname,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        actor: context.actor,
        workspace: context.workspaceId,
      });
    });
    void runWithRequestContext(context, async () => {
      try {
        const refused = requestTargetProblem(req.method ?? "", req.url ?? "/");
        if (refused) return await sendError(req, res, refused, context.requestId);
        if (!pathname?.startsWith("/_next/")) await rotateSession(req, res);
        // Some MCP clients post to `/mcp/`, and do not follow a redirect with their POST.
        if (pathname === "/mcp/") req.url = `/mcp${(req.url ?? "").slice("/mcp/".length)}`;
        // Routed by the path as a URL parser reads it (dot segments resolved), as both routers then see it.
        const target = req.url ?? "/";
        const routed = new URL(target.startsWith("/") ? `http://localhost${target}` : target).pathname;
        await (isMachinePath(routed) ? machine : next)(req, res);
      } catch (thrown) {
        // A storage fault (disk full, damaged file) is answered as what it is, and was logged once where it was recorded.
        const error = storageFault(thrown);
        if (error instanceof HttpError) {
          if (!res.headersSent) await sendError(req, res, error, context.requestId);
          return;
        }
        logger.error({ err: error, requestId: context.requestId }, "request failed");
        if (!res.headersSent) await sendError(req, res, new HttpError(500, "internal_error", "Something went wrong on our side."), context.requestId);
      }
    });
  };
}

/**
 * Requests Node answers before any handler runs still get our error shape and headers, not
 * Node's bare 400 or a dropped socket: a method its parser does not know, a broken request
 * line, oversized headers (clientError) and CONNECT, which nothing here serves.
 */
function answerOnSocket(socket: Duplex, status: number, reason: string, error: HttpError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(error, requestId));
  const headers = {
    ...securityHeaders,
    ...error.headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "x-request-id": requestId,
    connection: "close",
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join("\r\n");
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head}\r\n\r\n${body}`);
  logger.info({ requestId, status, error: error.code }, "refused a request Node could not hand on");
}

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "HPE_HEADER_OVERFLOW") {
    answerOnSocket(socket, 431, "Request Header Fields Too Large", new HttpError(431, "headers_too_large", "The request headers are too large."));
  } else {
    answerOnSocket(socket, 400, "Bad Request", new HttpError(400, "malformed_request", "The request could not be read as HTTP."));
  }
}

async function main(): Promise<void> {
  const config = await openStorage();
  const root = path.dirname(new URL(import.meta.url).pathname);
  if (!dev && !fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
    logger.info("no production build found: running next build");
    execFileSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], { cwd: root, stdio: "inherit" });
  }
  const { default: next } = await import("next");
  const app = next({ dev, dir: root, hostname: config.HOST, port: config.PORT });
  await app.prepare();
  const server = http.createServer(serve(config, app.getRequestHandler()));
  server.on("clientError", answerClientError);
  server.on("connect", (_req: http.IncomingMessage, socket: Duplex) => {
    const refusal = requestTargetProblem("CONNECT", "/");
    if (refusal) answerOnSocket(socket, 405, "Method Not Allowed", refusal);
  });
  // Sweeps, retention and purges (lib/jobs/jobs.ts), unless ENCLAVE_JOBS=off leaves them to timers.
  const jobs = startJobScheduler();
  server.listen(config.PORT, config.HOST, () => {
    logger.info({ url: config.ENCLAVE_PUBLIC_URL.origin, listen: `${config.HOST}:${config.PORT}`, dataDir: config.dataDir }, "enclave is ready");
  });
  // Signed audit checkpoints to the log every hour, and a last one before the store closes.
  const checkpoints = startAuditCheckpoints();
  const shutdown = () => {
    server.close();
    // A job in flight finishes its step first; each one resumes where a stop would leave it anyway.
    void jobs
      .stop()
      .then(() => checkpoints.stop())
      .then(closeStore)
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => die(error instanceof Error ? error.message : String(error)));
