import { getConfig } from "../config";
import { capByRole, type Scope } from "../access/scopes";

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

/** Reading only, a viewer's share: what a client is offered when its authorization request names no scope we know. */
export const DEFAULT_SCOPES: readonly OAuthScope[] = capByRole(oauthScopes, "viewer");

/**
 * What the 401 challenge asks for when the caller holds nothing yet: every tool scope a member
 * has, not `audit`. The consent page ticks only what the person's role allows and lets them
 * untick any. Not reading only: an MCP SDK 1.32 client that holds a refresh token answers a
 * step-up 403 by refreshing, which cannot widen a grant, instead of asking the person again, so
 * a client first granted reading only could never be granted more.
 */
export const FIRST_CHALLENGE_SCOPES: readonly OAuthScope[] = capByRole(oauthScopes, "member");

export const isOAuthScope = (word: string): word is OAuthScope => (oauthScopes as readonly string[]).includes(word);

/**
 * OpenID's word for "give me a refresh token", which MCP clients may send. Accepted and ignored:
 * a client gets a refresh token when it registered the refresh_token grant, since the SDK's
 * clients ask for exactly the scopes a challenge names and so never add this word themselves.
 */
export const OFFLINE_ACCESS = "offline_access";
