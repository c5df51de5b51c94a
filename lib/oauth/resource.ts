import { getConfig } from "../config";
import type { Scope } from "../access/scopes";

/**
 * This server as an OAuth protected resource (RFC 9728) and authorization server (RFC 8414).
 * Both live on the public origin: the issuer is the origin itself, the one resource is `/mcp`.
 * Every URL a client sees is built here, from ENCLAVE_PUBLIC_URL, never from a request's Host.
 */
const origin = () => getConfig().ENCLAVE_PUBLIC_URL.origin;

export const issuer = () => origin();
/** The canonical MCP URL: the `resource` tokens are bound to (RFC 8707) and the audience checked at /mcp. */
export const mcpResourceUrl = () => `${origin()}/mcp`;
export const protectedResourceMetadataUrl = () => `${origin()}/.well-known/oauth-protected-resource/mcp`;
export const oauthUrl = (path: "authorize" | "token" | "register" | "revoke") => `${origin()}/oauth/${path}`;

/**
 * What an AI client may be granted: the scopes MCP tools use. Managing members, tokens,
 * settings and clients stays with people in the portal, so those are never on offer here.
 */
export const oauthScopes = [
  "search",
  "graph",
  "events:read",
  "knowledge",
  "sessionmutations",
  "artifacts",
  "index",
  "events:publish",
  "audit",
] as const satisfies readonly Scope[];
export type OAuthScope = (typeof oauthScopes)[number];

/** Asks for a refresh token (OpenID's name for it, which MCP clients send). */
export const OFFLINE_ACCESS = "offline_access";
