import { sessionFromCookies } from "../auth/provider";
import { assertSameOrigin } from "../http/origin";
import { HttpError } from "../http/errors";
import { accessTo, type Principal } from "./authorize";
import type { Scope } from "./scopes";
import { resolveTeamToken } from "./tokens";

/**
 * Who is calling the REST API: a bearer team token, or else the portal's own session cookie.
 * A request that carries an Authorization header is judged by it alone — never by a cookie
 * sent alongside. Cookie calls that change state must come from our own origin (a bearer
 * token is never attached by a browser on its own, so it needs no such brake).
 */
const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

/** The token in an `Authorization: Bearer <token>` header, or null when the header is not that shape. */
export const bearerToken = (header: string): string | null => BEARER.exec(header.trim())?.[1] ?? null;

/** URLs end up in proxy logs and browser history: a token there is a leaked token. */
export function assertNoTokenInQuery(request: Request): void {
  if (new URL(request.url).searchParams.has("access_token")) {
    throw new HttpError(400, "token_in_query", "Send the token in the Authorization header, never in the URL.");
  }
}

const unauthenticated = (code: string, message: string, challenge: string) =>
  new HttpError(401, code, message, { "WWW-Authenticate": challenge });

export async function principalFromRequest(request: Request): Promise<Principal> {
  assertNoTokenInQuery(request);
  const header = request.headers.get("authorization");
  if (header !== null) {
    const token = bearerToken(header);
    if (!token) throw unauthenticated("invalid_token", "Use `Authorization: Bearer <token>`.", 'Bearer error="invalid_request"');
    const principal = await resolveTeamToken(token);
    if (!principal) {
      throw unauthenticated("invalid_token", "The token is unknown, expired or revoked.", 'Bearer error="invalid_token"');
    }
    return principal;
  }
  const session = await sessionFromCookies(request);
  if (!session) throw unauthenticated("unauthenticated", "Send a team token as `Authorization: Bearer <token>`.", "Bearer");
  if (!["GET", "HEAD"].includes(request.method)) assertSameOrigin(request);
  return { kind: "user", userId: session.user.id };
}

/** Asks again, for long-lived responses (SSE): is this request's caller still allowed `scope` here? */
export async function stillAuthorized(request: Request, workspaceId: string, scope: Scope): Promise<boolean> {
  try {
    const access = await accessTo(await principalFromRequest(request), workspaceId);
    return access?.scopes.includes(scope) ?? false;
  } catch {
    return false;
  }
}
