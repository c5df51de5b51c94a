import { linkWithToken, mailEnabled, sendMail } from "../mail/mailer";
import { INVITATION_DAYS } from "./invitations";

/**
 * How an invitation's link reaches the invited person: by mail when ENCLAVE_SMTP_URL is set,
 * else (or when the send fails) shown once to whoever issued it, to pass on. The token goes in
 * the query string: server.ts logs only the path.
 */
export type Delivery = { mailed: boolean; link: string | null };

export const invitationLink = (token: string): string => linkWithToken("/invite", token);

export async function deliverInvitation(email: string, token: string, what: { workspaceName: string | null; role: string | null }): Promise<Delivery> {
  const link = invitationLink(token);
  if (!mailEnabled()) return { mailed: false, link };
  const subject = what.workspaceName ? `You are invited to ${what.workspaceName} on Enclave` : "You may now create an Enclave account";
  const intro = what.workspaceName
    ? `You have been invited to join the workspace "${what.workspaceName}" as ${what.role ?? "a member"}.`
    : "Your request for access was approved: you may now create an account.";
  const text = `${intro}\n\nOpen this link (it works once, for ${INVITATION_DAYS} days, and only for ${email}):\n${link}\n\nIf you did not expect this, ignore this message.\n`;
  const mailed = await sendMail({ to: email, subject, text });
  return { mailed, link: mailed ? null : link };
}
