import type { Scope } from "../access/scopes";
import { HttpError } from "../http/errors";
import { oauthScopes, protectedResourceMetadataUrl } from "../oauth/resource";

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

export function missingTokenError(): HttpError {
  const header = challenge({ resource_metadata: protectedResourceMetadataUrl(), scope: oauthScopes.join(" ") });
  return new HttpError(401, "unauthenticated", "Send an access token as `Authorization: Bearer <token>`.", { "WWW-Authenticate": header });
}

export function invalidTokenError(message = "The access token is unknown, expired or revoked."): HttpError {
  const header = challenge({ error: "invalid_token", resource_metadata: protectedResourceMetadataUrl(), scope: oauthScopes.join(" ") });
  return new HttpError(401, "invalid_token", message, { "WWW-Authenticate": header });
}

/**
 * `scope` in the challenge is what the client should ask for next: what it holds plus what
 * this call needs (MCP 2025-11-25 step-up), since clients replace their scope with it and
 * would otherwise trade their existing access for the one new scope.
 */
export function insufficientScopeError(scope: Scope, what: string, held: readonly Scope[] = []): HttpError {
  const next = oauthScopes.filter((known) => known === scope || held.includes(known));
  const header = challenge({ error: "insufficient_scope", scope: next.join(" "), resource_metadata: protectedResourceMetadataUrl() });
  return new HttpError(403, "insufficient_scope", `${what} needs the "${scope}" scope, which this token does not have.`, { "WWW-Authenticate": header }, undefined, {
    scope,
  });
}
