import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { clearedSessionCookie } from "@/lib/auth/cookies";
import { requestClosure } from "@/lib/lifecycle/closure";

// Every session of the account ends, this one included: the cookie goes with it.
export const POST = portalRoute(portalEndpoints.closeAccount, async ({ session, body, ip }) => {
  const summary = await requestClosure(session, body, ip);
  return Response.json(summary, { headers: { "set-cookie": clearedSessionCookie(), "cache-control": "no-store" } });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
