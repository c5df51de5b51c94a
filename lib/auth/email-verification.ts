import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { users, type User } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { getControlDb } from "../db/store";
import { HttpError } from "../http/errors";
import { limitEmailTokenUse, limitVerificationResend } from "../http/rate-limits";
import { text } from "../http/text";
import { linkWithToken, mailEnabled, sendMail } from "../mail/mailer";
import { consumeEmailToken, EMAIL_TOKEN_LIFETIME_MS, issueEmailTokenTx } from "./email-tokens";
import { MailDisabledError } from "./password-reset";

/**
 * Email verification (local sign-in with ENCLAVE_SMTP_URL set): at sign-up, and again on
 * request from the account page, a single-use `enc_ev_…` link that lives 24 hours — long
 * enough for a mail read the next morning — sets users.email_verified_at. Without SMTP nothing
 * is sent and the account page says verification is off; an invitation then cannot require it.
 */
export const verifyEmailSchema = z.object({ token: text(256).min(1, "The link has no token.") });

function verificationMail(token: string): { subject: string; text: string } {
  return {
    subject: "Confirm your email for Enclave",
    text: [
      "Confirm that this address is yours by opening this link (it works once, within 24 hours):",
      linkWithToken("/verify-email", token),
      "",
      "If you did not create an Enclave account, ignore this mail.",
    ].join("\n"),
  };
}

/** Mails a verification link to `user` (superseding older ones); false when mail is off, the email is verified, or the send failed. */
export async function sendEmailVerification(user: Pick<User, "id" | "email" | "emailVerifiedAt">): Promise<boolean> {
  if (!mailEnabled() || user.emailVerifiedAt !== null) return false;
  const control = await getControlDb();
  const token = await control.transaction(async (tx) => {
    const issued = await issueEmailTokenTx(tx, user.id, "email_verification");
    await auditControlTx(tx, { actor: { type: "user", id: user.id }, action: "account.email_verification_sent", target: user.id, details: { validForMs: EMAIL_TOKEN_LIFETIME_MS.email_verification } });
    return issued;
  });
  return sendMail({ to: user.email, ...verificationMail(token) });
}

/** The account page's "send the link again". */
export async function resendEmailVerification(user: User): Promise<void> {
  if (!mailEnabled()) throw new MailDisabledError();
  if (user.emailVerifiedAt !== null) throw new HttpError(409, "already_verified", "Your email is already confirmed.");
  await limitVerificationResend(user.id);
  if (!(await sendEmailVerification(user))) throw new HttpError(503, "mail_failed", "The mail could not be sent. Try again later.");
}

/** Uses a verification link: sets the account's email as verified. */
export async function verifyEmail(token: string, ip: string): Promise<void> {
  await limitEmailTokenUse(ip);
  const control = await getControlDb();
  const now = Date.now();
  return control.transaction(async (tx) => {
    const userId = await consumeEmailToken(tx, "email_verification", token, now);
    const user = userId ? await tx.query.users.findFirst({ where: and(eq(users.id, userId), isNull(users.closedAt)) }) : undefined;
    if (!user) throw new HttpError(400, "invalid_token", "This link is not valid: it was used, it expired, or a newer one was sent. Send a new one from your account page.");
    await tx.update(users).set({ emailVerifiedAt: user.emailVerifiedAt ?? now }).where(eq(users.id, user.id));
    await auditControlTx(tx, { actor: { type: "user", id: user.id }, action: "account.email_verified", target: user.id });
  });
}
