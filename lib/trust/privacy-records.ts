import type { Config } from "../config";

/**
 * What this instance keeps about a person, why, and for how long, for /privacy. Periods come
 * from the configuration, and a record that this configuration never makes (a password under
 * Clerk, backups when none are configured, email tokens without SMTP) is not listed.
 */
export type PrivacyRecord = { readonly id: string; readonly what: string; readonly why: string; readonly kept: string };

export function privacyRecords(config: Config): PrivacyRecord[] {
  const hold = `${config.ENCLAVE_CLOSURE_HOLD_DAYS} days`;
  const records: (PrivacyRecord | false)[] = [
    {
      id: "account",
      what: config.clerk
        ? "Your email address and your Clerk user id (Clerk keeps your password and sign-in factors), when you joined, and whether the account is suspended or closing."
        : "Your email address, your password as an Argon2id hash (never the password), and, if you turn it on, your authenticator secret and one-time backup codes (as hashes); when you joined, and whether the account is suspended or closing.",
      why: "To sign you in and tell you apart.",
      kept: `Until you close the account, then ${hold} of hold; after the purge only a tombstone stays (id, email, when it was created, asked to close and closed), so the address is not silently reused.`,
    },
    {
      id: "sessions",
      what: "Each signed-in session: the IP address and browser (user agent) it started from, when it was created and last used. The session id itself is kept only as a SHA-256 hash.",
      why: "To keep you signed in, and so you can see and end your sessions.",
      kept: `Until sign-out, ${config.ENCLAVE_SESSION_IDLE_MINUTES} minutes unused or ${config.ENCLAVE_SESSION_MAX_HOURS} hours after sign-in; expired ones are deleted within the hour.`,
    },
    {
      id: "devices",
      what: "A hash of each kind of browser and device you signed in from (not the raw user agent), with when it was first and last seen.",
      why: "To notice a sign-in from a device not seen before.",
      kept: "As long as the account.",
    },
    {
      id: "audit",
      what: "Audit records of what you did that matters for security (sign-ins, changes to members, tokens and settings), each with the IP address and browser it came from.",
      why: "So an account's and a workspace's history can be checked, and tampering with it detected.",
      kept: `${config.ENCLAVE_AUDIT_RETENTION_DAYS} days, then swept.`,
    },
    {
      id: "workspaces",
      what: "Workspace content you and your AI agents write: knowledge, agent sessions, events, artifacts and links, each encrypted in the workspace's own database file; your memberships and role.",
      why: "It is what Enclave is for.",
      kept: `Until it is deleted, then ${hold} of hold before the file is erased.`,
    },
    {
      id: "tokens",
      what: "Team tokens you issued and AI clients you connected: their names, scopes, when they were last used, and the tokens as SHA-256 hashes.",
      why: "So scripts and AI clients can act for you within what you allowed.",
      kept: "Until revoked or expired; expired OAuth tokens are forgotten within the hour.",
    },
    {
      id: "invitations",
      what: "Invitations: the invited email address, the workspace and role, who invited, and the link's token as a hash.",
      why: "So the right person can join.",
      kept: "7 days, or until used or revoked.",
    },
    config.ENCLAVE_SIGNUP !== "open" && {
      id: "access-requests",
      what: "Requests for access: the email address and message you sent, and the IP address it came from.",
      why: "So the operator can answer, and floods can be refused.",
      kept: "Until the operator removes the request.",
    },
    config.ENCLAVE_SMTP_URL !== undefined &&
      !config.clerk && {
        id: "email-tokens",
        what: "Links sent by email to reset a password or verify an address, as hashes.",
        why: "So only the person who received the mail can use them.",
        kept: "30 minutes for a reset link, or until used.",
      },
    config.billing !== null && {
      id: "billing",
      what: "For a workspace whose owner subscribes: the subscription (plan, status, period) and each payment and refund Razorpay reports (its id, amount, currency, status, invoice), linked to your account and the workspace. Card or bank details never reach this server: Razorpay Checkout takes them.",
      why: "To apply the plan paid for, and because payment records must be kept for accounting and tax.",
      kept: "After the account is closed and purged too: payment records are kept, linked to the account's tombstone.",
    },
    config.ENCLAVE_BACKUP_RECIPIENTS.length > 0 && {
      id: "backups",
      what: "Encrypted backup copies of all of the above.",
      why: "To recover from a lost or damaged server.",
      kept: `${config.ENCLAVE_BACKUP_RETENTION_DAYS} days: what was erased is gone from backups only once the last set that held it is pruned.`,
    },
  ];
  return records.filter((record): record is PrivacyRecord => record !== false);
}

/** Who else handles a person's data on this instance, as configured; empty means no one. */
export function privacyRecipients(config: Config): string[] {
  return [
    config.clerk && "Clerk, which handles sign-in: your email address, sign-in factors and sessions with it",
    config.ENCLAVE_SMTP_URL !== undefined && "the mail server this instance sends through, for the messages it sends you",
    config.TURNSTILE_SITE_KEY !== undefined && "Cloudflare, through the Turnstile check on the request-access form, only if you allow it",
    config.billing !== null && "Razorpay, which takes payments for subscriptions: the workspace owner's payment details go to Razorpay Checkout directly, and Razorpay tells this server what was paid",
  ].filter((recipient): recipient is string => typeof recipient === "string");
}
