import { parse } from "cookie";
import { sessionCookieName } from "@/lib/auth/cookies";
import { resolveSession } from "@/lib/auth/sessions";
import { checkAuthorizationRequest } from "@/lib/oauth/authorization-request";
import { consentFormToken } from "@/lib/oauth/consent";
import * as protectedResource from "@/app/.well-known/oauth-protected-resource/route";
import * as authorizationServer from "@/app/.well-known/oauth-authorization-server/route";
import * as otherWellKnown from "@/app/.well-known/[...rest]/route";
import * as register from "@/app/oauth/register/route";
import * as token from "@/app/oauth/token/route";
import * as revoke from "@/app/oauth/revoke/route";
import * as decision from "@/app/oauth/authorize/decision/route";
import { ORIGIN } from "./http";

type Handler = (request: Request, context?: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
type RouteModule = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS", Handler>>;

const routes = new Map<string, RouteModule>([
  ["/.well-known/oauth-protected-resource", protectedResource],
  ["/.well-known/oauth-protected-resource/mcp", protectedResource],
  ["/.well-known/oauth-authorization-server", authorizationServer],
  ["/.well-known/openid-configuration", otherWellKnown],
  ["/.well-known/openid-configuration/mcp", otherWellKnown],
  ["/.well-known/oauth-authorization-server/mcp", otherWellKnown],
  ["/oauth/register", register],
  ["/oauth/token", token],
  ["/oauth/revoke", revoke],
  ["/oauth/authorize/decision", decision],
]);

/** Extra routes (the MCP endpoint) a test file mounts on the in-process server. */
export function mountRoute(path: string, module: RouteModule): void {
  routes.set(path, module);
}

/**
 * `fetch` for the SDK's client, answered by the route handlers in this process — the same
 * handlers Next runs, called with the same Request — so OAuth flows need no server.
 */
export async function inProcessFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.origin !== ORIGIN) throw new Error(`in-process fetch only serves ${ORIGIN}, not ${url.origin}`);
  const handler = routes.get(url.pathname)?.[request.method as keyof RouteModule];
  if (!handler) return Response.json({ error: "not_found" }, { status: 404 });
  return handler(request, { params: Promise.resolve({}) });
}

/**
 * What the consent page does when the person approves: render the form token for the request
 * they see, then post their choice. Returns the URL the browser is sent back to.
 */
export async function consent(
  authorizationUrl: URL,
  cookie: string,
  choice: { workspaceId: string; scopes?: string[]; approve?: boolean; headers?: Record<string, string> },
): Promise<Response> {
  const check = await checkAuthorizationRequest(authorizationUrl.searchParams);
  if (!check.ok) throw new Error(`authorization request refused: ${JSON.stringify(check)}`);
  const signedIn = await resolveSession(parse(cookie)[sessionCookieName()]);
  if (!signedIn) throw new Error("cookie is not a session");
  const body = {
    query: authorizationUrl.searchParams.toString(),
    formToken: consentFormToken(signedIn, check.request),
    approve: choice.approve ?? true,
    workspaceId: choice.workspaceId,
    scopes: choice.scopes ?? check.request.scopes,
  };
  return decision.POST(
    new Request(`${ORIGIN}/oauth/authorize/decision`, {
      method: "POST",
      headers: { origin: ORIGIN, cookie, "content-type": "application/json", ...choice.headers },
      body: JSON.stringify(body),
    }),
  );
}

/** The code (or error) in the redirect a consent answered with. */
export async function redirectParams(response: Response): Promise<URLSearchParams> {
  if (!response.ok) throw new Error(`consent failed: ${response.status} ${await response.text()}`);
  const { redirectTo } = (await response.json()) as { redirectTo: string };
  return new URL(redirectTo).searchParams;
}

/** Posts a form to the token endpoint, as a client would. */
export function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return inProcessFetch(`${ORIGIN}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
