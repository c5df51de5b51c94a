import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { resendEmailVerification } from "@/lib/auth/email-verification";

export const POST = portalRoute(portalEndpoints.resendEmailVerification, async ({ session }) => {
  await resendEmailVerification(session.user);
  return Response.json({ sent: true });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
