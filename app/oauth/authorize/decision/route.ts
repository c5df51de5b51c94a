import { handler, otherMethods } from "@/lib/http/handler";
import { consentDecisionSchema, decideConsent } from "@/lib/oauth/consent";

/** The consent page's answer: same-origin, signed-in, JSON only (no CORS), with its form token. */
export const POST = handler({ trust: "user", body: consentDecisionSchema }, async ({ session, body }) =>
  Response.json(await decideConsent(session, body)),
);
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
