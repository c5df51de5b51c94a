import { disableTotp } from "@/lib/auth/mfa";
import { sendSecurityNotice } from "@/lib/auth/security-notices";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { HttpError } from "@/lib/http/errors";

export const POST = portalRoute(portalEndpoints.disableMfa, async ({ session, body, ip }) => {
  if (!(await disableTotp(session.user.id, body.code))) {
    throw new HttpError(400, "invalid_mfa_code", "That code is not valid.");
  }
  await sendSecurityNotice(session.user.email, { kind: "mfa_disabled" }, { ip });
  return Response.json({ disabled: true });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
