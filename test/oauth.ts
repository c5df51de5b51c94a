import { parse } from "cookie";
import { sessionCookieName } from "@/lib/auth/cookies";
import { resolveSession } from "@/lib/auth/sessions";
import { checkAuthorizationRequest } from "@/lib/oauth/authorization-request";
import { consentFormToken } from "@/lib/oauth/consent";
import * as decision from "@/app/oauth/authorize/decision/route";
import { appFetch, ORIGIN } from "./harness";

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
  return appFetch(`${ORIGIN}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
