import { parse } from "cookie";
import { auditControl } from "@/lib/audit/audit";
import { endClerkSession } from "@/lib/auth/clerk";
import { appendClearedClerkCookies, clearedSessionCookie, readSessionToken } from "@/lib/auth/cookies";
import { deleteSession } from "@/lib/auth/sessions";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { getConfig } from "@/lib/config";

// Public so an already-ended session can still clear its cookie; same-origin is enforced.
// Answers a plain form post (the portal's button works without JavaScript) with a redirect.
export const POST = portalRoute(portalEndpoints.signOut, async ({ request }) => {
  const cookieHeader = request.headers.get("cookie");
  const headers = new Headers({ "cache-control": "no-store" });
  headers.append("set-cookie", clearedSessionCookie());
  // A local session cookie left from before the switch to Clerk ends too.
  const token = readSessionToken(cookieHeader);
  let userId = token ? await deleteSession(token) : null;
  if (getConfig().ENCLAVE_AUTH_PROVIDER === "clerk") {
    const cookies = parse(cookieHeader ?? "");
    const ended = await endClerkSession((name) => cookies[name]);
    userId = ended?.userId ?? userId;
    appendClearedClerkCookies(headers, cookieHeader);
  }
  if (userId) await auditControl({ actor: { type: "user", id: userId }, action: "user.sign_out", target: userId });
  if ((request.headers.get("accept") ?? "").includes("text/html")) {
    headers.set("location", "/sign-in");
    return new Response(null, { status: 303, headers });
  }
  return new Response(null, { status: 204, headers });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
