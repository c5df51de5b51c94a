import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { getControlDb } from "../db/store";
import { HttpError } from "../http/errors";
import { clearSignInFailures, limitEmailTokenUse, limitPasswordResetRequest } from "../http/rate-limits";
import { text } from "../http/text";
import { linkWithToken, mailEnabled, sendMail } from "../mail/mailer";
import { endSessionsTx } from "./account-sessions";
import { consumeEmailToken, EMAIL_TOKEN_LIFETIME_MS, issueEmailTokenTx, isWellFormedEmailToken } from "./email-tokens";
import { hashPassword, passwordSchema } from "./password";
import { sendSecurityNotice } from "./security-notices";
import { emailSchema } from "./users";

/**
 * "Forgot password" and its mailed link (local sign-in, with ENCLAVE_SMTP_URL set).
 *
 * - The request answers the same words whether or not the email has an account, and does the
 *   same work either way: one lookup, one transaction with one audit row; the mail (the slow
 *   part) goes out after the answer, so its time is not in the answer's.
 * - The link carries a single-use `enc_pr_…` token that lives 30 minutes; a newer request
 *   supersedes it (lib/auth/email-tokens.ts).
 * - Using it sets the new password, ends every session (whoever had the old password is out)
 *   and counts as proof of the mailbox. MFA stays as it was: a mailbox alone does not sign in.
 * - Without SMTP the operator resets it: `enclave user reset-password` (resetPasswordAsOperator).
 */
export const forgotPasswordSchema = z.object({ email: emailSchema });
export const resetPasswordSchema = z.object({ token: text(256).min(1, "The link has no token."), password: passwordSchema });

export const FORGOT_PASSWORD_ANSWER =
  "If an account with this email exists, a link to reset its password is on its way. It works once, within 30 minutes.";

export class MailDisabledError extends HttpError {
  constructor() {
    super(409, "mail_disabled", "This Enclave does not send mail: ask its operator to reset your password (enclave user reset-password).");
  }
}

const invalidLink = () => new HttpError(400, "invalid_token", "This link is not valid: it was used, it expired, or a newer one was sent. Ask for a new one.");

function resetMail(token: string): { subject: string; text: string } {
  const minutes = EMAIL_TOKEN_LIFETIME_MS.password_reset / 60_000;
  return {
    subject: "Reset your Enclave password",
    text: [
      "Someone (hopefully you) asked to reset the password of your Enclave account.",
      "",
      `Open this link within ${minutes} minutes to choose a new one. It works once:`,
      linkWithToken("/reset-password", token),
      "",
      "If you did not ask, ignore this mail: your password stays as it is.",
    ].join("\n"),
  };
}

export async function requestPasswordReset(email: string, ip: string): Promise<void> {
  if (!mailEnabled()) throw new MailDisabledError();
  await limitPasswordResetRequest(ip, email);
  const control = await getControlDb();
  const token = await control.transaction(async (tx) => {
    const user = await tx.query.users.findFirst({ where: and(eq(users.email, email), isNull(users.closedAt)), columns: { id: true } });
    const issued = user ? await issueEmailTokenTx(tx, user.id, "password_reset") : null;
    await auditControlTx(tx, { actor: { type: "anonymous" }, action: "account.password_reset_requested", target: user?.id ?? null, details: { email, known: user !== undefined } });
    return issued;
  });
  // Not awaited: the answer must not wait on the mail server only when the account exists.
  if (token) void sendMail({ to: email, ...resetMail(token) });
}

/** Sets the password with a mailed link's token; every session of the account ends. */
export async function resetPasswordWithToken(input: z.infer<typeof resetPasswordSchema>, ip: string): Promise<void> {
  await limitEmailTokenUse(ip);
  if (!isWellFormedEmailToken("password_reset", input.token)) throw invalidLink();
  const passwordHash = await hashPassword(input.password);
  const control = await getControlDb();
  const now = Date.now();
  const user = await control.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, "password_reset", input.token, now);
    const found = userId ? await tx.query.users.findFirst({ where: and(eq(users.id, userId), isNull(users.closedAt)) }) : undefined;
    if (!found) throw invalidLink();
    // The link reached this mailbox: that proves the address as well as a verification link would.
    await tx.update(users).set({ passwordHash, emailVerifiedAt: found.emailVerifiedAt ?? now }).where(eq(users.id, found.id));
    const sessionsEnded = await endSessionsTx(tx, found.id);
    await auditControlTx(tx, { actor: { type: "user", id: found.id }, action: "account.password_reset", target: found.id, details: { via: "email_link", sessionsEnded } });
    return found;
  });
  await clearSignInFailures(user.email);
  await sendSecurityNotice(user.email, { kind: "password_reset" }, { ip, at: now });
}

/** `enclave user reset-password`: the operator sets a new password; every session of the account ends. */
export async function resetPasswordAsOperator(userId: string, password: string, actor: Actor): Promise<{ sessionsEnded: number }> {
  const passwordHash = await hashPassword(password);
  const control = await getControlDb();
  const { email, sessionsEnded } = await control.transaction(async (tx) => {
    const user = await tx.query.users.findFirst({ where: and(eq(users.id, userId), isNull(users.closedAt)) });
    if (!user) throw new HttpError(404, "not_found", "No such account.");
    await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
    const ended = await endSessionsTx(tx, userId);
    await auditControlTx(tx, { actor, action: "account.password_reset", target: userId, details: { via: "operator", sessionsEnded: ended } });
    return { email: user.email, sessionsEnded: ended };
  });
  await clearSignInFailures(email);
  await sendSecurityNotice(email, { kind: "password_reset" });
  return { sessionsEnded };
}
