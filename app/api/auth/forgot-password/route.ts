import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { FORGOT_PASSWORD_ANSWER, requestPasswordReset } from "@/lib/auth/password-reset";

export const POST = portalRoute(portalEndpoints.forgotPassword, async ({ body, ip }) => {
  await requestPasswordReset(body.email, ip);
  return Response.json({ message: FORGOT_PASSWORD_ANSWER }, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
