import nodemailer, { type Transporter } from "nodemailer";
import { getConfig } from "../config";
import { logger } from "../log/logger";

/**
 * The one way Enclave sends mail: invitations, password resets, email verification and
 * security notices. Without ENCLAVE_SMTP_URL nothing is sent and callers fall back to what the
 * embedded default does (an invitation link shown to the inviter, the operator's CLI for a
 * reset); `mailEnabled()` is how they tell.
 */
export type Mail = { to: string; subject: string; text: string };

const globalForMail = globalThis as unknown as { enclaveMailer?: { url: string; transporter: Transporter } };

export const mailEnabled = (): boolean => getConfig().ENCLAVE_SMTP_URL !== undefined;

/**
 * A link on this instance carrying a single-use secret (an invitation, a reset or verification
 * link), mailed or handed on. The secret goes in the query: server.ts logs only the path.
 */
export function linkWithToken(pathname: string, token: string): string {
  const url = new URL(pathname, getConfig().ENCLAVE_PUBLIC_URL);
  url.searchParams.set("token", token);
  return url.toString();
}

function transporter(url: string): Transporter {
  if (globalForMail.enclaveMailer?.url !== url) {
    globalForMail.enclaveMailer?.transporter.close();
    // smtp:// upgrades with STARTTLS when the server offers it; smtps:// is TLS from the first byte.
    globalForMail.enclaveMailer = { url, transporter: nodemailer.createTransport(url) };
  }
  return globalForMail.enclaveMailer.transporter;
}

/**
 * Sends one plain-text message. Returns false when mail is off or the server refused it:
 * a notice that cannot go out is logged, never a reason to fail the request that caused it.
 */
export async function sendMail(mail: Mail): Promise<boolean> {
  const config = getConfig();
  if (!config.ENCLAVE_SMTP_URL) return false;
  try {
    await transporter(config.ENCLAVE_SMTP_URL).sendMail({ from: config.ENCLAVE_MAIL_FROM, to: mail.to, subject: mail.subject, text: mail.text });
    return true;
  } catch (error) {
    // The recipient is a person's address: log that a send failed and why, not to whom.
    logger.warn({ event: "mail_failed", subject: mail.subject, err: error instanceof Error ? error.message : String(error) }, "mail could not be sent");
    return false;
  }
}
