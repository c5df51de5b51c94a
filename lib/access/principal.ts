import type { Actor } from "../audit/audit";
import { sessionFromCookies } from "../auth/provider";
import { HttpError } from "../http/errors";
import { assertSameOrigin, changesState } from "../http/origin";
import { resolveBearer } from "./bearer";
import type { Scope } from "./scopes";

/**
 * Who is calling: the one model every surface (REST, MCP, portal pages and endpoints, the
 * CLI) turns a request into, and the one input `authorize()` takes.
 *
 *   user      a person signed in to the portal (a local session now; a Clerk session is the
 *             same person by another provider); acts through their membership role
 *   token     a team token: bound to one workspace, its own scopes, capped by its issuer's role
 *   oauth     an AI client's access token: one person, one workspace, the scopes they
 *             consented to, capped again by that person's current role
 *   operator  whoever holds the master key (the CLI), or the operator token on /api/operator
 *             alone (lib/api/operator-route.ts): admin-level in every workspace, never
 *             billing, ownership or deletion
 */
export type UserPrincipal = { kind: "user"; userId: string };
export type TokenPrincipal = { kind: "token"; tokenId: string; workspaceId: string; scopes: Scope[] };
export type OAuthPrincipal = { kind: "oauth"; grantId: string; clientId: string; userId: string; workspaceId: string; scopes: Scope[] };
export type OperatorPrincipal = { kind: "operator"; via: "cli" | "token" };
export type Principal = UserPrincipal | TokenPrincipal | OAuthPrincipal | OperatorPrincipal;

export const OPERATOR: OperatorPrincipal = { kind: "operator", via: "cli" };
/** Whoever presented the live operator token (lib/access/operator-token.ts). */
export const OPERATOR_TOKEN: OperatorPrincipal = { kind: "operator", via: "token" };

/** `user:<id>`, `token:<id>`, `oauth:<grant id>`, `operator:cli` or `operator:token`: stored as the author of what a principal writes. */
export function principalLabel(principal: Principal): string {
  switch (principal.kind) {
    case "user":
      return `user:${principal.userId}`;
    case "token":
      return `token:${principal.tokenId}`;
    case "oauth":
      return `oauth:${principal.grantId}`;
    case "operator":
      return `operator:${principal.via}`;
  }
}

/** Who the audit trail names for a principal's acts. */
export function actorOf(principal: Principal): Actor {
  switch (principal.kind) {
    case "user":
      return { type: "user", id: principal.userId };
    case "token":
      return { type: "token", id: principal.tokenId };
    case "oauth":
      return { type: "oauth", id: principal.grantId };
    case "operator":
      // `cli` is what rows written before the operator token say; the token is named in full,
      // so no reader takes it for a team token.
      return { type: "system", id: principal.via === "cli" ? "cli" : "operator:token" };
  }
}

/**
 * What a surface accepts and how it refuses. A request carrying an Authorization header is
 * judged by it alone, never by a cookie sent alongside.
 */
export type Surface = {
  /** The resource OAuth access tokens must have been issued for; null refuses them here. */
  oauthAudience: string | null;
  /** Whether the portal's session cookie counts (never where a browser could attach it unasked). */
  session: boolean;
  /** The 401 for a request whose credentials are missing, malformed or not (or no longer) valid. */
  refuse: (problem: CredentialProblem, request: Request, token: string | null) => HttpError | Promise<HttpError>;
};
export type CredentialProblem = "missing" | "malformed" | "invalid";

const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

/** The token in an `Authorization: Bearer <token>` header, or null when the header is not that shape. */
export const bearerToken = (header: string): string | null => BEARER.exec(header.trim())?.[1] ?? null;

/** URLs end up in proxy logs and browser history: a token there is a leaked token. */
export function assertNoTokenInQuery(request: Request): void {
  if (new URL(request.url).searchParams.has("access_token")) {
    throw new HttpError(400, "token_in_query", "Send the token in the Authorization header, never in the URL.");
  }
}

/**
 * The one resolver: a request and the surface it came in on → its principal, or the
 * surface's 401. Cookie calls that change state must come from our own origin; a bearer
 * token is never attached by a browser on its own, so it needs no such brake.
 */
export async function resolvePrincipal(request: Request, surface: Surface): Promise<Principal> {
  assertNoTokenInQuery(request);
  const header = request.headers.get("authorization");
  if (header !== null) {
    const token = bearerToken(header);
    if (!token) throw await surface.refuse("malformed", request, null);
    const principal = await resolveBearer(token, surface.oauthAudience);
    if (!principal) throw await surface.refuse("invalid", request, token);
    return principal;
  }
  const session = surface.session ? await sessionFromCookies(request) : null;
  if (!session) throw await surface.refuse("missing", request, null);
  if (changesState(request)) assertSameOrigin(request);
  return { kind: "user", userId: session.user.id };
}

const unauthenticated = (code: string, message: string, challenge: string) => new HttpError(401, code, message, { "WWW-Authenticate": challenge });

/** /api/v1: team tokens, or the portal's own session. OAuth access tokens belong to /mcp. */
export const restSurface: Surface = {
  oauthAudience: null,
  session: true,
  refuse: (problem) =>
    problem === "missing"
      ? unauthenticated("unauthenticated", "Send a team token as `Authorization: Bearer <token>`.", "Bearer")
      : problem === "malformed"
        ? unauthenticated("invalid_token", "Use `Authorization: Bearer <token>`.", 'Bearer error="invalid_request"')
        : unauthenticated("invalid_token", "The token is unknown, expired or revoked.", 'Bearer error="invalid_token"'),
};
