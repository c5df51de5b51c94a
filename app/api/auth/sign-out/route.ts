import { auditControl } from "@/lib/audit/audit";
import { clearedSessionCookie, readSessionToken } from "@/lib/auth/cookies";
import { deleteSession } from "@/lib/auth/sessions";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

// Public so an already-ended session can still clear its cookie; same-origin is enforced.
// Answers a plain form post (the portal's button works without JavaScript) with a redirect.
export const POST = portalRoute(portalEndpoints.signOut, async ({ request }) => {
  const token = readSessionToken(request.headers.get("cookie"));
  const userId = token ? await deleteSession(token) : null;
  if (userId) await auditControl({ actor: { type: "user", id: userId }, action: "user.sign_out", target: userId });
  const headers = { "set-cookie": clearedSessionCookie(), "cache-control": "no-store" };
  if ((request.headers.get("accept") ?? "").includes("text/html")) {
    return new Response(null, { status: 303, headers: { ...headers, location: "/sign-in" } });
  }
  return new Response(null, { status: 204, headers });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
