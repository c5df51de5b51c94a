import { disableTotp } from "@/lib/auth/mfa";
import { mfaCodeSchema } from "@/lib/auth/mfa-schemas";
import { handler, otherMethods } from "@/lib/http/handler";
import { HttpError } from "@/lib/http/errors";

export const POST = handler({ trust: "user", body: mfaCodeSchema }, async ({ session, body }) => {
  if (!(await disableTotp(session.user.id, body.code))) {
    throw new HttpError(400, "invalid_mfa_code", "That code is not valid.");
  }
  return Response.json({ disabled: true });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
