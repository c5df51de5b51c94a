import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { decideConsent } from "@/lib/oauth/consent";

/** The consent page's answer: same-origin, signed-in, JSON only (no CORS), with its form token. */
export const POST = portalRoute(portalEndpoints.decideConsent, async ({ session, body }) =>
  Response.json(await decideConsent(session, body)),
);
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
