import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { verifyEmail } from "@/lib/auth/email-verification";

export const POST = portalRoute(portalEndpoints.verifyEmail, async ({ body, ip }) => {
  await verifyEmail(body.token, ip);
  return Response.json({ verified: true }, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
