import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { confirmReauth, REAUTH_WINDOW_MS } from "@/lib/auth/reauth";

export const POST = portalRoute(portalEndpoints.reauthenticate, async ({ session, body, ip }) => {
  const now = Date.now();
  await confirmReauth(session, body, ip, now);
  return Response.json({ reauthenticatedAt: now, validUntil: now + REAUTH_WINDOW_MS }, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
