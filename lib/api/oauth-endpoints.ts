import { clientRegistrationSchema } from "../oauth/clients";
import { revokeFormSchema, tokenFormSchema } from "../oauth/forms";
import type { OAuthEndpoint } from "./endpoint";

/** The OAuth endpoints machines post to. lib/router/machine-routes.ts builds the router's routes from these entries. */
export const oauthEndpoints = {
  registerClient: { operationId: "registerClient", method: "POST", path: "/oauth/register", summary: "RFC 7591 dynamic client registration", limit: "registration", body: { type: "json", schema: clientRegistrationSchema } },
  token: { operationId: "token", method: "POST", path: "/oauth/token", summary: "Authorization code and refresh grants (PKCE)", limit: "sync", body: { type: "form", schema: tokenFormSchema } },
  revoke: { operationId: "revoke", method: "POST", path: "/oauth/revoke", summary: "RFC 7009 token revocation", limit: "sync", body: { type: "form", schema: revokeFormSchema } },
} as const satisfies Record<string, OAuthEndpoint>;

export const oauthEndpointList: readonly OAuthEndpoint[] = Object.values(oauthEndpoints);
