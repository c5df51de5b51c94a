import type http from "node:http";
import { getRequestListener, RequestError } from "@hono/node-server";
import { Hono } from "hono";
import { handleRequest, otherMethods } from "../api/route";
import { errorResponse, HttpError, notFound } from "../http/errors";
import { getRequestContext } from "../log/request-context";
import { logger } from "../log/logger";
import { discoveryPreflight, machineRoutes, unknownDiscoveryPath, type MachineRoute } from "./machine-routes";

/**
 * The machine endpoints (machine-routes.ts) served by Hono, in the same process and ahead of
 * Next: Next's request pipeline costs more than most of these calls' own work (see
 * docs/decisions/021-machine-router.md), and a machine endpoint needs none of it — no page,
 * no nonce, no proxy.ts. server.ts still wraps every request (id, client address, security
 * headers, the log line, the request-target checks); the guards that are the endpoint's own
 * (Host and Origin, rate limits, body caps, tokens, scopes) run inside its handler, the same
 * functions as before.
 */

// Paths under these prefixes are all machine paths: one no route claims is our JSON 404, never a page.
const OWNED_PREFIXES = ["/api/v1/", "/api/operator/", "/api/webhooks/", "/.well-known/"];
const ROUTE_PATHS = new Set(machineRoutes.map((route) => route.path));

/** Whether `pathname` (already normalized) is the machine router's to answer. */
export function isMachinePath(pathname: string): boolean {
  return ROUTE_PATHS.has(pathname) || OWNED_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

const toHonoPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");
const refuseWith = (allowed: string[]) => otherMethods(...allowed).GET;

function buildApp(): Hono {
  const app = new Hono();
  const byPath = new Map<string, MachineRoute[]>();
  for (const route of machineRoutes) {
    const routes = byPath.get(route.path) ?? byPath.set(route.path, []).get(route.path)!;
    routes.push(route);
    // Hono answers HEAD with the GET route, without its body, as Next did.
    app.on(route.method, toHonoPath(route.path), (c) => route.handle(c.req.raw, { params: Promise.resolve(c.req.param()) }));
  }
  for (const [path, routes] of byPath) {
    const allowed = routes.map((route) => route.method).filter((method) => method !== "OPTIONS");
    // What Next answered for a route without its own OPTIONS: 204 and the methods it serves.
    if (!routes.some((route) => route.method === "OPTIONS")) {
      app.options(toHonoPath(path), () => new Response(null, { status: 204, headers: { allow: [...allowed, "OPTIONS"].join(", ") } }));
    }
    const refuse = refuseWith(allowed);
    app.all(toHonoPath(path), (c) => refuse(c.req.raw));
  }
  app.get("/.well-known/*", (c) => unknownDiscoveryPath(c.req.raw, { params: Promise.resolve({}) }));
  app.options("/.well-known/*", () => discoveryPreflight());
  app.notFound((c) => handleRequest(c.req.raw, undefined, () => Promise.reject(notFound("No such API route."))));
  // Handlers answer their own errors (handleRequest); this is for a fault in between.
  app.onError((error, c) => {
    const requestId = getRequestContext()?.requestId ?? "";
    logger.error({ err: error, requestId, path: c.req.path }, "machine router failed");
    return errorResponse(new HttpError(500, "internal_error", "Something went wrong on our side."), requestId);
  });
  return app;
}

let app: Hono | undefined;
/** The Hono app, built on first use (after the config is read). Tests call its `fetch` directly. */
export const machineApp = (): Hono => (app ??= buildApp());

/**
 * The app as a node:http listener. `overrideGlobalObjects: false`: Next shares this process and
 * its globals, so Request and Response stay Node's own. A request the adapter cannot turn into
 * a Request (a malformed Host header, a backslash in the path) gets our 400, not its bare one.
 */
export function machineListener(): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return getRequestListener((request) => machineApp().fetch(request), {
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      const requestId = getRequestContext()?.requestId ?? "";
      if (error instanceof RequestError) return errorResponse(new HttpError(400, "malformed_request", "The request could not be read: check its Host header and path."), requestId);
      logger.error({ err: error, requestId }, "machine router failed");
      return errorResponse(new HttpError(500, "internal_error", "Something went wrong on our side."), requestId);
    },
  });
}
