import { oauthEndpoints } from "@/lib/api/oauth-endpoints";
import { oauthPreflight, oauthRoute } from "@/lib/api/oauth-route";
import { otherMethods } from "@/lib/api/route";
import { authenticateClient } from "@/lib/oauth/clients";
import { oauthError } from "@/lib/oauth/errors";
import { exchangeAuthorizationCode, refreshAccessToken } from "@/lib/oauth/grants";

export const POST = oauthRoute(oauthEndpoints.token, async ({ request, body: form }) => {
  const grantType = form.grant_type;
  if (grantType !== "authorization_code" && grantType !== "refresh_token") {
    throw oauthError("unsupported_grant_type", "Only authorization_code and refresh_token are supported.");
  }
  const client = await authenticateClient(request, form);
  if (!client.grantTypes.includes(grantType)) throw oauthError("unauthorized_client", `This client did not register the ${grantType} grant.`);
  const tokens = grantType === "authorization_code" ? await exchangeAuthorizationCode(client, form) : await refreshAccessToken(client, form);
  return Response.json(tokens, { headers: { pragma: "no-cache" } });
});
export const OPTIONS = oauthPreflight("POST");
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
