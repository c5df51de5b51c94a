import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/control/schema";
import { auditControl, auditControlTx } from "../audit/audit";
import { getControlDb } from "../db/store";
import { HttpError } from "../http/errors";
import { clearSignInFailures, limitSignInAttempt, recordSignInFailure } from "../http/rate-limits";
import { text } from "../http/text";
import { endSessionsTx, replaceSessionIdTx } from "./account-sessions";
import { isMfaEnabled, verifySecondFactor } from "./mfa";
import { hashPassword, passwordSchema, verifyPassword } from "./password";
import { sendSecurityNotice } from "./security-notices";
import type { SignedIn } from "./sessions";

/**
 * Changing one's password while signed in: the current password (and the second factor when
 * MFA is on) first, so an unlocked screen or a stolen cookie alone cannot do it; it shares
 * sign-in's brakes (per IP, per account) so it is no side door for guessing. Then, in one
 * transaction, the new hash, every other session ended and this one given a new id (a cookie
 * copied before the change opens nothing), and the audit row. A notice is mailed after.
 */
export const changePasswordSchema = z.object({
  currentPassword: text(1024).min(1, "Enter your current password."),
  code: text(64).trim().optional(),
  newPassword: passwordSchema,
});
export type ChangePasswordInput = z.infer<typeof changePasswordSchema>;

export async function changePassword(signedIn: SignedIn, input: ChangePasswordInput, meta: { ip: string }): Promise<{ token: string; expiresAt: number; sessionsEnded: number }> {
  const { user } = signedIn;
  await limitSignInAttempt(meta.ip, user.email);
  const fail = async (reason: string, error: HttpError): Promise<never> => {
    await recordSignInFailure(user.email);
    await auditControl({ actor: { type: "user", id: user.id }, action: "account.password_change_failed", target: user.id, details: { reason } });
    throw error;
  };
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    return fail("wrong_password", new HttpError(401, "invalid_credentials", "That is not your current password.", {}, { currentPassword: ["That is not your current password."] }));
  }
  if (isMfaEnabled(user)) {
    if (!input.code) throw new HttpError(401, "mfa_required", "Enter the code from your authenticator app, or a backup code.");
    if (!(await verifySecondFactor(user.id, input.code))) return fail("wrong_mfa_code", new HttpError(401, "invalid_mfa_code", "That code is not valid."));
  }
  await clearSignInFailures(user.email);
  const passwordHash = await hashPassword(input.newPassword);
  const control = await getControlDb();
  const result = await control.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    const sessionsEnded = await endSessionsTx(tx, user.id, signedIn.sessionId);
    const replaced = await replaceSessionIdTx(tx, signedIn.sessionId);
    // The session ended between the check and here (signed out in another tab): nothing changes.
    if (!replaced) throw new HttpError(401, "unauthenticated", "Sign in to continue.");
    await auditControlTx(tx, { actor: { type: "user", id: user.id }, action: "account.password_changed", target: user.id, details: { sessionsEnded } });
    return { ...replaced, sessionsEnded };
  });
  await sendSecurityNotice(user.email, { kind: "password_changed" }, { ip: meta.ip });
  return result;
}
