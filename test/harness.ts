import fs from "node:fs";
import path from "node:path";
import { parse } from "cookie";
import { sessionCookieName } from "@/lib/auth/cookies";
import { randomUUID } from "node:crypto";
import { getConfig } from "@/lib/config";
import { clientAddress } from "@/lib/http/client-address";
import { errorResponse } from "@/lib/http/errors";
import { requestTargetProblem } from "@/lib/http/request-target";
import { getRequestContext, runWithRequestContext } from "@/lib/log/request-context";
import { isMachinePath, machineApp } from "@/lib/router/machine-router";
import { machineRoutes } from "@/lib/router/machine-routes";

/**
 * The one in-process harness: `appFetch` answers a Request the way the running server does —
 * the request-target checks server.ts makes, then the machine router (lib/router: REST, MCP,
 * OAuth, discovery, operator, webhooks, health) for the paths it owns, and the app's route.ts
 * handlers for the rest, found by path as Next finds them (static segments before [dynamic]
 * before [...catch-all], route groups ignored, params decoded) — so unit tests, the MCP SDK
 * client and the OAuth flows all call the same handlers through the same URLs, with no server
 * and no mocks. Pages are left to the Playwright specs.
 */
export const ORIGIN = "http://localhost:3000";

type Handler = (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
type RouteModule = Partial<Record<string, Handler>>;
type Segment = { kind: "static"; value: string } | { kind: "dynamic"; name: string } | { kind: "catchAll"; name: string };
type Route = { file: string; segments: Segment[] };

const APP_DIR = path.resolve(import.meta.dirname, "../app");

function discoverRoutes(dir = APP_DIR, prefix: string[] = []): Route[] {
  const routes: Route[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === "route.ts") routes.push({ file: full, segments: prefix.map(segmentOf) });
    // `(group)` folders add nothing to the URL; `_private` folders are never routes.
    else if (entry.isDirectory() && !entry.name.startsWith("_")) {
      routes.push(...discoverRoutes(full, /^\(.*\)$/.test(entry.name) ? prefix : [...prefix, entry.name]));
    }
  }
  return routes;
}

function segmentOf(name: string): Segment {
  const catchAll = /^\[\.\.\.(\w+)\]$/.exec(name);
  if (catchAll) return { kind: "catchAll", name: catchAll[1]! };
  const dynamic = /^\[(\w+)\]$/.exec(name);
  return dynamic ? { kind: "dynamic", name: dynamic[1]! } : { kind: "static", value: name };
}

const routes = discoverRoutes();

/** Every route — the machine router's and each route file — with its URL template (`/api/v1/workspaces/{workspaceId}/…`) and its methods. */
export function routeTable(): { template: string; load: () => Promise<RouteModule> }[] {
  const machine = new Map<string, RouteModule>();
  for (const route of machineRoutes) (machine.get(route.path) ?? machine.set(route.path, {}).get(route.path)!)[route.method] = route.handle;
  return [
    ...[...machine].map(([template, module]) => ({ template, load: () => Promise.resolve(module) })),
    ...routes.map((route) => ({
      template: "/" + route.segments.map((segment) => (segment.kind === "static" ? segment.value : segment.kind === "dynamic" ? `{${segment.name}}` : `{...${segment.name}}`)).join("/"),
      load: () => load(route.file),
    })),
  ];
}
const modules = new Map<string, Promise<RouteModule>>();
const load = (file: string) => {
  if (!modules.has(file)) modules.set(file, import(file) as Promise<RouteModule>);
  return modules.get(file)!;
};

/** The route serving `pathname` and its params, or null. Specificity as Next orders it. */
export function matchRoute(pathname: string): { route: Route; params: Record<string, string | string[]> } | null {
  const parts = pathname.split("/").filter(Boolean).map((part) => decodeURIComponent(part));
  let best: { route: Route; params: Record<string, string | string[]>; score: number[] } | null = null;
  for (const route of routes) {
    const params: Record<string, string | string[]> = {};
    const score: number[] = [];
    let ok = true;
    for (let i = 0; i < route.segments.length && ok; i++) {
      const segment = route.segments[i]!;
      if (segment.kind === "catchAll") {
        const rest = parts.slice(i);
        ok = rest.length > 0 && i === route.segments.length - 1;
        params[segment.name] = rest;
        score.push(1);
        break;
      }
      const part = parts[i];
      if (part === undefined) ok = false;
      else if (segment.kind === "static") ok = segment.value === part;
      else params[segment.name] = part;
      score.push(segment.kind === "static" ? 3 : 2);
    }
    const last = route.segments.at(-1);
    if (!ok || (last?.kind !== "catchAll" && route.segments.length !== parts.length)) continue;
    if (!best || compareScores(score, best.score) > 0) best = { route, params, score };
  }
  return best && { route: best.route, params: best.params };
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * `fetch` served in-process. It fills in what a real client's request carries (the Host
 * header), applies the server's request-target checks, and dispatches to the machine router or
 * the route's method inside a request context (id, client IP) as server.ts does. A route file
 * without that method answers 405, as Next does.
 */
export function appFetch(input: string | URL | Request, init?: RequestInit & { ip?: string }): Promise<Response> {
  // `ip` is the socket's peer; behind a trusted proxy the client address comes from X-Forwarded-For, as in server.ts.
  const forwardedFor = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).get("x-forwarded-for") ?? undefined;
  const address = clientAddress(init?.ip ?? "127.0.0.1", forwardedFor, getConfig().ENCLAVE_TRUST_PROXY);
  return runWithRequestContext({ requestId: randomUUID(), ...address }, () => dispatch(input, init));
}

async function dispatch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.origin !== ORIGIN) throw new Error(`the in-process server only serves ${ORIGIN}, not ${url.origin}`);
  if (!request.headers.has("host")) {
    const headers = new Headers(request.headers);
    headers.set("host", url.host);
    return dispatch(new Request(request, { headers }));
  }
  const refused = requestTargetProblem(request.method, request.url);
  if (refused) return errorResponse(refused, getRequestContext()?.requestId ?? randomUUID());
  if (isMachinePath(url.pathname)) return machineApp().fetch(request);
  const match = matchRoute(url.pathname);
  if (!match) throw new Error(`no route serves ${url.pathname}`);
  const handler = (await load(match.route.file))[request.method];
  if (!handler) return new Response(null, { status: 405 });
  return handler(request, { params: Promise.resolve(match.params) });
}

export type RequestOptions = {
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A raw Authorization header, for malformed ones. */
  authorization?: string;
  /** A `name=value` cookie; such calls are same-origin unless `headers.origin` says otherwise. */
  cookie?: string;
  /** JSON-encoded, with `content-type: application/json` unless headers say otherwise. */
  body?: unknown;
  /** Sent as it is. */
  rawBody?: BodyInit;
  query?: Record<string, string>;
  /** Extra headers; an empty value drops a header the harness would send. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The socket's peer address (rate limits count per client IP: this one, unless a trusted proxy's X-Forwarded-For says otherwise). */
  ip?: string;
};

/** A request to `pathname` on the in-process server, as a client of that kind would send it. */
export function request(pathname: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.cookie !== undefined) {
    headers.cookie = options.cookie;
    headers.origin = ORIGIN;
  }
  let body: BodyInit | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  Object.assign(headers, options.headers);
  for (const [name, value] of Object.entries(headers)) if (value === "") delete headers[name];
  const url = new URL(pathname, ORIGIN);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const method = options.method ?? (body === undefined ? "GET" : "POST");
  return appFetch(url, { method, headers, body, signal: options.signal, ip: options.ip });
}

/** The JSON body of a response, typed loosely for assertions. */
export async function jsonOf<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The `name=value` pair of the session cookie a response set, ready to send back. */
export function sessionCookieFrom(response: Response): string {
  const header = response.headers.get("set-cookie") ?? "";
  const value = parse(header)[sessionCookieName()];
  if (!value) throw new Error(`no session cookie in ${header}`);
  return `${sessionCookieName()}=${value}`;
}

/** `/api/v1/workspaces/<id><rest>`: the REST paths tests call most. */
export const workspacePath = (workspaceId: string, rest = "") => `/api/v1/workspaces/${encodeURIComponent(workspaceId)}${rest}`;
