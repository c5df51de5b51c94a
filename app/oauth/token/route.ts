import { otherMethods } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { authenticateClient } from "@/lib/oauth/clients";
import { oauthError } from "@/lib/oauth/errors";
import { exchangeAuthorizationCode, refreshAccessToken } from "@/lib/oauth/grants";
import { oauthEndpoint, oauthPreflight, readForm } from "@/lib/oauth/http";

export const POST = oauthEndpoint(async ({ request, ip }) => {
  await limitApiCall("sync", "oauth-token", ip);
  const form = await readForm(request);
  const grantType = form.get("grant_type");
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
