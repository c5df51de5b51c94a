import { signedInResponse } from "@/lib/auth/responses";
import { signIn } from "@/lib/auth/sign-in";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

export const POST = portalRoute(portalEndpoints.signIn, async ({ body, ip, userAgent }) => {
  const user = await signIn(body, ip);
  return signedInResponse(user.id, { ip, userAgent }, { user: { id: user.id, email: user.email } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
