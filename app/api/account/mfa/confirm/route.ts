import { confirmTotpSetup } from "@/lib/auth/mfa";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { HttpError } from "@/lib/http/errors";

export const POST = portalRoute(portalEndpoints.confirmMfa, async ({ session, body }) => {
  const result = await confirmTotpSetup(session.user.id, body.code);
  if (!result) throw new HttpError(400, "invalid_mfa_code", "That code is not valid. Check the time on your device and try again.");
  return Response.json(result, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
