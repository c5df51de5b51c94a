import { limitSignUp } from "@/lib/http/rate-limits";
import { signedInResponse } from "@/lib/auth/responses";
import { sendEmailVerification } from "@/lib/auth/email-verification";
import { signUp } from "@/lib/access/sign-up";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

export const POST = portalRoute(portalEndpoints.signUp, async ({ body, ip, userAgent }) => {
  await limitSignUp(ip);
  const { user, invitation } = await signUp(body);
  await sendEmailVerification(user);
  return signedInResponse(user.id, { ip, userAgent }, { user: { id: user.id, email: user.email }, ...(invitation ? { invitation } : {}) }, 201);
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
