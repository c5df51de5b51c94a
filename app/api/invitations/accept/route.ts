import { acceptInvitation } from "@/lib/access/invitations";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { mailEnabled } from "@/lib/mail/mailer";

export const POST = portalRoute(portalEndpoints.acceptInvitation, async ({ body, session }) =>
  Response.json(await acceptInvitation(session.user.id, body.token, { requireVerifiedEmail: mailEnabled() }), { headers: { "cache-control": "no-store" } }),
);

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
