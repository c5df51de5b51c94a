import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { accessTo, type WorkspaceAccess } from "../access/authorize";
import { bearerToken } from "../access/principal";
import { resolveTeamToken } from "../access/tokens";
import { getConfig } from "../config";
import { noteActor } from "../http/context";
import { HttpError } from "../http/errors";
import { resolveOAuthAccessToken } from "../oauth/access-tokens";
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
 * Who is calling, and what they may do in their workspace: a team token, or an OAuth access
 * token issued for this resource. Bearer only: a portal cookie is never accepted here, since
 * a browser attaches cookies to requests a page did not mean to authorise.
 */
export async function accessFromBearer(request: Request): Promise<WorkspaceAccess> {
  const header = request.headers.get("authorization");
  if (header === null) throw missingTokenError();
  const token = bearerToken(header);
  if (!token) throw invalidTokenError("Use `Authorization: Bearer <token>`.");
  const principal = (await resolveTeamToken(token)) ?? (await resolveOAuthAccessToken(token, mcpResourceUrl()));
  if (!principal) throw invalidTokenError();
  // Null when the person behind an OAuth grant has left the workspace since.
  const access = await accessTo(principal, principal.workspaceId);
  if (!access || access.scopes.length === 0) throw invalidTokenError("The access token no longer grants anything in its workspace.");
  noteActor(access.label, access.workspaceId);
  return access;
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

/** What one JSON-RPC message needs beyond being authenticated, named for the error. */
function scopeNeededBy(message: unknown): { scope: NonNullable<ReturnType<typeof scopeOfTool>>; what: string } | null {
  if (!isRecord(message) || !isRecord(message.params)) return null;
  const { method, params } = message;
  if (method === "tools/call" && typeof params.name === "string") {
    const scope = scopeOfTool(params.name);
    return scope ? { scope, what: `The tool "${params.name}"` } : null;
  }
  if (method === "resources/read" && typeof params.uri === "string" && params.uri.startsWith(KNOWLEDGE_URI_PREFIX)) {
    return { scope: knowledgeResourceScope, what: "Reading knowledge" };
  }
  return null;
}

/**
 * Step-up (MCP 2025-11-25): a call the caller lacks the scope for is refused with HTTP 403 and
 * a challenge naming the scope, before anything runs, so an OAuth client can ask its user for
 * more. For a batch, the first message that needs more decides.
 */
export function assertScopesFor(body: unknown, access: WorkspaceAccess): void {
  for (const message of Array.isArray(body) ? body : [body]) {
    const needed = scopeNeededBy(message);
    if (needed && !access.scopes.includes(needed.scope)) throw insufficientScopeError(needed.scope, needed.what, access.scopes);
  }
}
