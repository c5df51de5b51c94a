import { getConfig } from "../config";
import { mailEnabled, sendMail } from "../mail/mailer";

/**
 * Security notices by mail (when ENCLAVE_SMTP_URL is set): the person hears of a change to
 * their account they may not have made. Each says what happened, when and from where, and
 * what to do if it was not them; none carries a link that signs in or a secret. A notice that
 * cannot go out is logged by the mailer and never fails the request that caused it.
 */
export type SecurityNotice =
  | { kind: "password_changed" }
  | { kind: "password_reset" }
  | { kind: "mfa_disabled" }
  | { kind: "new_device"; device: string };

export type NoticeOrigin = { ip?: string | null; at?: number };

const SUBJECTS: Record<SecurityNotice["kind"], string> = {
  password_changed: "Your Enclave password was changed",
  password_reset: "Your Enclave password was reset",
  mfa_disabled: "Two-factor authentication was turned off on your Enclave account",
  new_device: "A new sign-in to your Enclave account",
};

function what(notice: SecurityNotice): string {
  switch (notice.kind) {
    case "password_changed":
      return "The password of your account was changed. Every other session was signed out.";
    case "password_reset":
      return "The password of your account was reset. Every session was signed out.";
    case "mfa_disabled":
      return "Two-factor authentication was turned off for your account. Signing in now needs only your password.";
    case "new_device":
      return `Your account was signed in from a device not seen before: ${notice.device}.`;
  }
}

export function securityNoticeText(notice: SecurityNotice, origin: NoticeOrigin = {}): { subject: string; text: string } {
  const base = getConfig().ENCLAVE_PUBLIC_URL.origin;
  const lines = [
    what(notice),
    "",
    `When: ${new Date(origin.at ?? Date.now()).toISOString()}`,
    ...(origin.ip ? [`From address: ${origin.ip}`] : []),
    `Instance: ${base}`,
    "",
    "If this was you, there is nothing to do.",
    `If it was not, change your password at ${base}/account (or ask for a reset at ${base}/forgot-password), review your sessions there, and tell whoever runs this Enclave.`,
  ];
  return { subject: SUBJECTS[notice.kind], text: lines.join("\n") };
}

/** Mails the notice to `email`; false when mail is off or could not be sent. */
export async function sendSecurityNotice(email: string, notice: SecurityNotice, origin: NoticeOrigin = {}): Promise<boolean> {
  if (!mailEnabled()) return false;
  return sendMail({ to: email, ...securityNoticeText(notice, origin) });
}
