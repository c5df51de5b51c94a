import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { authorizeWithin, InsufficientScopeError, workspaceGrant, type WorkspaceGrant } from "../access/authorize";
import { scopesOfPresentedAccessToken } from "../access/bearer";
import { resolvePrincipal, type Surface } from "../access/principal";
import type { Scope } from "../access/scopes";
import { getConfig } from "../config";
import { readBody } from "../http/body";
import { noteActor } from "../log/request-context";
import { HttpError } from "../http/errors";
import { mcpResourceUrl } from "../oauth/resource";
import { insufficientScopeError, invalidTokenError, missingTokenError } from "./challenge";
import { KNOWLEDGE_URI_PREFIX, knowledgeResourceScope, scopeOfTool } from "./tool-scopes";

/**
 * The checks every /mcp request passes before the MCP transport sees it, cheapest first.
 * Each throws an HttpError, which the endpoint turns into the one JSON error shape.
 */

// Only characters a host (name, IPv4, [IPv6]) and port use: no `@`, `/` or spaces that could
// make URL parsing below read a different host than the one the client named.
const HOST_SYNTAX = /^[A-Za-z0-9.\-:[\]]+$/;

/** The host the client addressed, normalised as URL.host does (lowercase, default port dropped), or null. */
function addressedHost(request: Request): string | null {
  const config = getConfig();
  // Behind the operator's own proxy the proxy names the host; it appends, so the last entry is its own.
  const forwarded = config.ENCLAVE_TRUST_PROXY ? request.headers.get("x-forwarded-host")?.split(",").at(-1)?.trim() : undefined;
  const host = forwarded || request.headers.get("host");
  if (!host || !HOST_SYNTAX.test(host)) return null;
  const url = URL.canParse(`${config.ENCLAVE_PUBLIC_URL.protocol}//${host}`) ? new URL(`${config.ENCLAVE_PUBLIC_URL.protocol}//${host}`) : null;
  return url?.host ?? null;
}

/**
 * DNS rebinding defence, part one: a page on evil.example that rebinds its name to this
 * server's address still sends `Host: evil.example`, so only our public host is served.
 */
export function assertPublicHost(request: Request): void {
  if (addressedHost(request) !== getConfig().ENCLAVE_PUBLIC_URL.host) {
    throw new HttpError(421, "misdirected_request", "This server does not answer for that host.");
  }
}

/** Whether a browser on `origin` may call /mcp: our own pages, or an origin the operator listed. */
export function isAllowedOrigin(origin: string): boolean {
  const config = getConfig();
  return origin === config.ENCLAVE_PUBLIC_URL.origin || config.ENCLAVE_MCP_ALLOWED_ORIGINS.includes(origin);
}

/**
 * DNS rebinding and cross-site defence, part two: a browser always names the calling page's
 * origin, and only allowed ones get through. Non-browser clients send no Origin at all.
 */
export function assertAllowedOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin !== null && !isAllowedOrigin(origin)) {
    throw new HttpError(403, "forbidden_origin", "Requests from this origin are not allowed here.");
  }
}

/**
 * /mcp on the one resolver: bearer only — team tokens, or OAuth access tokens issued for this
 * resource. A portal cookie is never accepted here, since a browser attaches cookies to
 * requests a page did not mean to authorise. Refusals carry the challenge an MCP client
 * follows (challenge.ts), asking for what the refused calls need.
 */
const mcpSurface = (): Surface => ({
  oauthAudience: mcpResourceUrl(),
  session: false,
  refuse: async (problem, request, token) => {
    const needed = await scopesNeededByBodyOf(request);
    if (problem === "missing") return missingTokenError(needed);
    if (problem === "malformed") return invalidTokenError([], needed, "Use `Authorization: Bearer <token>`.");
    return invalidTokenError(token ? await scopesOfPresentedAccessToken(token, mcpResourceUrl()) : [], needed);
  },
});

/** Who is calling, and what they may do in the one workspace their token is bound to. */
export async function mcpGrant(request: Request): Promise<WorkspaceGrant> {
  const principal = await resolvePrincipal(request, mcpSurface());
  // Bearer only, so a team token or an access token: each is bound to one workspace.
  const bound = principal.kind === "token" || principal.kind === "oauth" ? principal : null;
  // Empty when the person behind an OAuth grant has left the workspace, or their role allows none of it now.
  const grant = bound && (await workspaceGrant(bound, bound.workspaceId));
  if (!grant || grant.scopes.length === 0) {
    throw invalidTokenError(bound?.scopes ?? [], await scopesNeededByBodyOf(request), "The access token no longer grants anything in its workspace.");
  }
  noteActor(grant.label, grant.workspaceId);
  return grant;
}

/**
 * A refused caller's 401 names what its calls would need, so a client that signs in for it asks
 * for that at once. Only a small body is read (a refusal stays cheap) and one we cannot read
 * just leaves the scope out. This consumes the body, so it is called only on the way to a
 * refusal. (Not on a clone: a cancelled branch of a tee'd stream waits for the other branch.)
 */
const CHALLENGE_BODY_PEEK_BYTES = 64 * 1024;

async function scopesNeededByBodyOf(request: Request): Promise<Scope[]> {
  if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? "")) return [];
  try {
    return scopesNeededBy(JSON.parse((await readBody(request, CHALLENGE_BODY_PEEK_BYTES)).toString("utf8")));
  } catch {
    return [];
  }
}

/**
 * The version a client names after initialisation must be one we speak. (The SDK transport
 * checks too, but only after initialisation and in JSON-RPC's error shape; here it is ours.)
 */
export function assertProtocolVersion(request: Request): void {
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    throw new HttpError(400, "unsupported_protocol_version", `MCP protocol version "${version}" is not supported; use one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}.`);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** What one JSON-RPC message needs beyond being authenticated, named for the error and the audit row. */
function scopeNeededBy(message: unknown): { scope: Scope; what: string; attempted: string } | null {
  if (!isRecord(message) || !isRecord(message.params)) return null;
  const { method, params } = message;
  if (method === "tools/call" && typeof params.name === "string") {
    const scope = scopeOfTool(params.name);
    return scope ? { scope, what: `The tool "${params.name}"`, attempted: `tool:${params.name}` } : null;
  }
  if (method === "resources/read" && typeof params.uri === "string" && params.uri.startsWith(KNOWLEDGE_URI_PREFIX)) {
    return { scope: knowledgeResourceScope, what: "Reading knowledge", attempted: "resource:knowledge" };
  }
  return null;
}

const messagesOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);

/** Every scope the calls in a body (one message or a batch) need, beyond being authenticated. */
function scopesNeededBy(body: unknown): Scope[] {
  return messagesOf(body).flatMap((message) => scopeNeededBy(message)?.scope ?? []);
}

/**
 * Step-up (MCP 2025-11-25): a call the caller lacks the scope for is refused with HTTP 403 and
 * a challenge naming the scope, before anything runs, so an OAuth client can ask its user for
 * more. For a batch, the first message that needs more names the refusal; the challenge asks
 * for everything the batch needs.
 */
export async function assertScopesFor(body: unknown, grant: WorkspaceGrant): Promise<void> {
  for (const message of messagesOf(body)) {
    const needed = scopeNeededBy(message);
    if (!needed) continue;
    try {
      authorizeWithin(grant, needed.scope, needed.attempted);
    } catch (error) {
      if (!(error instanceof InsufficientScopeError)) throw error;
      await error.recorded;
      throw insufficientScopeError(needed, grant.scopes, scopesNeededBy(body));
    }
  }
}
