import { oauthEndpoints } from "@/lib/api/oauth-endpoints";
import { oauthPreflight, oauthRoute } from "@/lib/api/oauth-route";
import { otherMethods } from "@/lib/api/route";
import { authenticateClient } from "@/lib/oauth/clients";
import { oauthError } from "@/lib/oauth/errors";
import { revokeClientToken } from "@/lib/oauth/grants";

/** RFC 7009: 200 whether or not the token was known, so the answer reveals nothing. */
export const POST = oauthRoute(oauthEndpoints.revoke, async ({ request, body: form }) => {
  if (!form.token) throw oauthError("invalid_request", "Send the token to revoke.");
  const client = await authenticateClient(request, form);
  await revokeClientToken(client, form.token);
  return new Response(null, { status: 200 });
});
export const OPTIONS = oauthPreflight("POST");
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
