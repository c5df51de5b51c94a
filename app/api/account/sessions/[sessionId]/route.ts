import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { endAccountSession } from "@/lib/auth/account-sessions";
import { clearedSessionCookie } from "@/lib/auth/cookies";

export const DELETE = portalRoute(portalEndpoints.endAccountSession, async ({ session, params }) => {
  const { current } = await endAccountSession(session, params.sessionId ?? "");
  // Ending the session this request came with is signing out: its cookie goes too.
  return new Response(null, { status: 204, headers: current ? { "set-cookie": clearedSessionCookie() } : {} });
});

export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
