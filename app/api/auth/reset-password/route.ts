import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { resetPasswordWithToken } from "@/lib/auth/password-reset";

export const POST = portalRoute(portalEndpoints.resetPassword, async ({ body, ip }) => {
  await resetPasswordWithToken(body, ip);
  return Response.json({ reset: true }, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
