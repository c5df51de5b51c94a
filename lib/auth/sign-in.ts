import { z } from "zod";
import type { User } from "@/db/control/schema";
import { auditControl } from "../audit/audit";
import { HttpError } from "../http/errors";
import { text } from "../http/text";
import { isMfaEnabled, verifySecondFactor } from "./mfa";
import { verifyPassword } from "./password";
import { AccountSuspendedError, isSuspended } from "./suspension";
import { clearSignInFailures, limitSignInAttempt, recordSignInFailure } from "../http/rate-limits";
import { emailSchema, findUserByEmail } from "./users";

export const signInSchema = z.object({
  email: emailSchema,
  // Length only: sign-in must not reveal the sign-up rules, and the cap bounds Argon2's input.
  password: text(1024).min(1, "Enter your password."),
  code: text(64).trim().optional(),
});

// The same words for an unknown email and a wrong password, so the answer names no account.
const invalidCredentials = () => new HttpError(401, "invalid_credentials", "Email or password is incorrect.");

/** Checks password and, when enabled, the second factor; every outcome is audited. */
export async function signIn(input: z.infer<typeof signInSchema>, ip: string): Promise<User> {
  await limitSignInAttempt(ip, input.email);
  const user = await findUserByEmail(input.email);
  const passwordOk = await verifyPassword(user?.passwordHash, input.password);
  const fail = async (reason: string, error: HttpError): Promise<never> => {
    await recordSignInFailure(input.email);
    await auditControl({
      actor: { type: "anonymous" },
      action: "user.sign_in_failed",
      target: user?.id ?? null,
      details: { email: input.email, reason },
    });
    throw error;
  };
  if (!user || !passwordOk) return fail(user ? "wrong_password" : "unknown_email", invalidCredentials());

  let secondFactor: string | null = null;
  if (isMfaEnabled(user)) {
    if (!input.code) {
      throw new HttpError(401, "mfa_required", "Enter the code from your authenticator app, or a backup code.");
    }
    secondFactor = await verifySecondFactor(user.id, input.code);
    if (!secondFactor) return fail("wrong_mfa_code", new HttpError(401, "invalid_mfa_code", "That code is not valid."));
  }
  // Said only to whoever knows the password (and code): a suspended account opens no session.
  if (isSuspended(user)) return fail("suspended", new AccountSuspendedError());
  await clearSignInFailures(input.email);
  await auditControl({ actor: { type: "user", id: user.id }, action: "user.sign_in", target: user.id, details: { secondFactor } });
  return user;
}
