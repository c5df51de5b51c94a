import type { Scope } from "../access/scopes";
import { HttpError } from "../http/errors";
import { FIRST_CHALLENGE_SCOPES, isOAuthScope, oauthScopes, protectedResourceMetadataUrl } from "../oauth/resource";

/**
 * The refusals /mcp answers with, each with the `WWW-Authenticate` challenge an MCP client
 * follows (RFC 6750 §3, RFC 9728 §5.1, MCP authorization 2025-11-25):
 *   no token     401, no `error=`: the client has not tried yet, so it discovers the
 *                authorization server from `resource_metadata` and asks for `scope`;
 *   bad token    401 `invalid_token`: unknown, expired, revoked, or for another resource;
 *   scope lacked 403 `insufficient_scope`: the message and `scope` field name the scope the
 *                call needs; the challenge's `scope` adds it to those already held (step-up).
 */
const quoted = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([name, value]) => `${name}="${value}"`)
    .join(", ");

const challenge = (params: Record<string, string>) => `Bearer ${quoted(params)}`;

/**
 * The `scope` of every challenge: what the client should ask for next. MCP clients (the SDK's
 * among them) ask for exactly this, replacing what they asked for before (MCP 2025-11-25 scope
 * selection), so it is what the caller holds plus what this request needs: never every scope,
 * and never less than it has. A caller that holds nothing we can see (no token, or one we do
 * not know) is offered what a member's client would use (FIRST_CHALLENGE_SCOPES), plus what
 * its call needs.
 */
export function scopeToRequest(held: readonly Scope[], needed: readonly Scope[]): string {
  const holds = held.filter(isOAuthScope);
  const base: readonly Scope[] = holds.length > 0 ? holds : FIRST_CHALLENGE_SCOPES;
  return oauthScopes.filter((scope) => base.includes(scope) || needed.includes(scope)).join(" ");
}

const metadata = () => ({ resource_metadata: protectedResourceMetadataUrl() });

/** No `Authorization` header: `needed` is what the request's calls need, when we could tell. */
export function missingTokenError(needed: readonly Scope[] = []): HttpError {
  const header = challenge({ ...metadata(), scope: scopeToRequest([], needed) });
  return new HttpError(401, "unauthenticated", "Send an access token as `Authorization: Bearer <token>`.", { "WWW-Authenticate": header });
}

/** `held`: the scopes the presented token carried, if it is one of ours (expired or revoked); else none. */
export function invalidTokenError(held: readonly Scope[], needed: readonly Scope[], message = "The access token is unknown, expired or revoked."): HttpError {
  const header = challenge({ error: "invalid_token", ...metadata(), scope: scopeToRequest(held, needed) });
  return new HttpError(401, "invalid_token", message, { "WWW-Authenticate": header });
}

/** `lacking` names the first call refused, for the message; `needed` is every scope the request needs. */
export function insufficientScopeError(lacking: { scope: Scope; what: string }, held: readonly Scope[], needed: readonly Scope[]): HttpError {
  const header = challenge({ error: "insufficient_scope", scope: scopeToRequest(held, [...needed, lacking.scope]), ...metadata() });
  return new HttpError(403, "insufficient_scope", `${lacking.what} needs the "${lacking.scope}" scope, which this token does not have.`, { "WWW-Authenticate": header }, undefined, {
    scope: lacking.scope,
  });
}
