import { startTotpSetup } from "@/lib/auth/mfa";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

// The secret goes back once, to its owner, over this no-store response; it is never logged.
export const POST = portalRoute(portalEndpoints.startMfa, async ({ session }) => {
  const setup = await startTotpSetup(session.user.id, session.user.email);
  return Response.json(setup, { headers: { "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
