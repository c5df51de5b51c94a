import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { sessionCookie } from "@/lib/auth/cookies";
import { changePassword } from "@/lib/auth/password-change";

export const POST = portalRoute(portalEndpoints.changePassword, async ({ session, body, ip }) => {
  const { token, expiresAt, sessionsEnded } = await changePassword(session, body, { ip });
  return Response.json({ changed: true, sessionsEnded }, { headers: { "set-cookie": sessionCookie(token, expiresAt), "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
