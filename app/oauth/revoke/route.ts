import { otherMethods } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { authenticateClient } from "@/lib/oauth/clients";
import { oauthError } from "@/lib/oauth/errors";
import { revokeClientToken } from "@/lib/oauth/grants";
import { oauthEndpoint, oauthPreflight, readForm } from "@/lib/oauth/http";

/** RFC 7009: 200 whether or not the token was known, so the answer reveals nothing. */
export const POST = oauthEndpoint(async ({ request, ip }) => {
  await limitApiCall("sync", "oauth-revoke", ip);
  const form = await readForm(request);
  const token = form.get("token");
  if (!token) throw oauthError("invalid_request", "Send the token to revoke.");
  const client = await authenticateClient(request, form);
  await revokeClientToken(client, token);
  return new Response(null, { status: 200 });
});
export const OPTIONS = oauthPreflight("POST");
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
