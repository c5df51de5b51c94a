import { HttpError } from "../http/errors";
import { resolveClient, type OAuthClient } from "./clients";
import { DEFAULT_SCOPES, issuer, mcpResourceUrl, oauthScopes, type OAuthScope } from "./resource";
import { redirectUriMatches } from "./redirect-uris";

/**
 * GET /oauth/authorize, checked. The order follows RFC 6749 §4.1.2.1: until the client and
 * its redirect URI are known to belong together, an error is shown on our own page and never
 * sent anywhere (an open redirector otherwise); after that, errors go back to the client.
 */
export type AuthorizationRequest = {
  client: OAuthClient;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  resource: string;
  /** Known scopes asked for, in table order; unknown ones (`openid`, `claudeai`…) are dropped. */
  scopes: OAuthScope[];
  /**
   * Whether the client will stay connected (get a refresh token): it registered the
   * refresh_token grant. The consent page says so; `offline_access` in `scope` changes nothing.
   */
  offlineAccess: boolean;
};

export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; redirect: false; message: string }
  | { ok: false; redirect: true; location: string };

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const SINGLE_VALUED = ["client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "resource", "scope", "state"];

/** Where the client's redirect goes with a result: RFC 9207's `iss` names us, `state` comes back as sent. */
export function clientRedirect(redirectUri: string, params: Record<string, string | null>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.set(name, value);
  url.searchParams.set("iss", issuer());
  return url.toString();
}

/** The resource a client named, if it is this server's MCP endpoint (with or without the trailing slash). */
export function isOurResource(resource: string): boolean {
  return resource === mcpResourceUrl() || resource === `${mcpResourceUrl()}/`;
}

export function parseScopes(scope: string | null): { scopes: OAuthScope[]; asked: boolean } {
  const words = (scope ?? "").split(/\s+/).filter(Boolean);
  const scopes = oauthScopes.filter((known) => words.includes(known));
  return { scopes, asked: scopes.length > 0 };
}

export async function checkAuthorizationRequest(params: URLSearchParams): Promise<AuthorizationCheck> {
  const page = (message: string): AuthorizationCheck => ({ ok: false, redirect: false, message });
  const repeated = SINGLE_VALUED.find((name) => params.getAll(name).length > 1);
  if (repeated) return page(`The request names ${repeated} more than once.`);

  const clientId = params.get("client_id");
  if (!clientId) return page("The request does not say which client is asking (client_id).");
  let client: OAuthClient;
  try {
    client = await resolveClient(clientId);
  } catch (error) {
    if (error instanceof HttpError) return page(error.message);
    throw error;
  }
  const requested = params.get("redirect_uri");
  const redirectUri = requested
    ? client.redirectUris.some((registered) => redirectUriMatches(registered, requested))
      ? requested
      : null
    : client.redirectUris.length === 1
      ? client.redirectUris[0]!
      : null;
  if (!redirectUri) return page(requested ? "The redirect_uri is not one this client registered." : "The request needs a redirect_uri.");

  const state = params.get("state");
  const fail = (error: string, description: string): AuthorizationCheck => ({
    ok: false,
    redirect: true,
    location: clientRedirect(redirectUri, { error, error_description: description, state }),
  });
  if (params.get("response_type") !== "code") return fail("unsupported_response_type", 'Only response_type=code is supported.');
  const codeChallenge = params.get("code_challenge");
  if (!codeChallenge) return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.");
  if (params.get("code_challenge_method") !== "S256") return fail("invalid_request", "Only code_challenge_method=S256 is supported.");
  if (!CODE_CHALLENGE.test(codeChallenge)) return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier.");
  const resource = params.get("resource");
  if (resource !== null && !isOurResource(resource)) return fail("invalid_target", `This server only issues tokens for ${mcpResourceUrl()}.`);

  const { scopes, asked } = parseScopes(params.get("scope"));
  return {
    ok: true,
    request: {
      client,
      redirectUri,
      state,
      codeChallenge,
      // Older clients omit `resource`; the only resource here is the MCP endpoint.
      resource: mcpResourceUrl(),
      scopes: asked ? scopes : [...DEFAULT_SCOPES],
      offlineAccess: client.grantTypes.includes("refresh_token"),
    },
  };
}
