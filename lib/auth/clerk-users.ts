import { and, eq, gt, isNull } from "drizzle-orm";
import { invitations, users, type User } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { getConfig } from "../config";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import { insertFreshAccount } from "./users";

/**
 * A Clerk user becomes (or is linked to) one Enclave account, by the primary email Clerk
 * verified. Two ways in, both through linkClerkUser so the rules are one:
 *   - the user.created webhook (lib/webhooks/clerk.ts), which carries the email;
 *   - the first verified session of a Clerk user no row knows yet (the webhook may lag the
 *     first sign-in by seconds, or not be configured): the token carries no email, so the
 *     provider asks Clerk's Backend API once (lib/auth/clerk-api.ts). After that the link is
 *     by `users.clerkUserId` alone and no request goes to Clerk.
 * An existing account with that email and no Clerk link is linked (the person signed up
 * locally before the instance moved to Clerk); one linked to another Clerk user is never
 * taken over. A new account obeys ENCLAVE_SIGNUP exactly as local sign-up does: `closed`
 * refuses, `invite` needs a pending invitation for the email.
 */
/** Where a page sends a Clerk user this instance refused (app/_server/auth.ts). */
export const NOT_ADMITTED_PAGE = "/account/not-admitted";

export class SignUpRefusedError extends HttpError {
  constructor(readonly reason: "sign_up_closed" | "invitation_required" | "email_unverified" | "email_taken") {
    super(403, reason, SIGN_UP_REFUSALS[reason]);
  }
}

const SIGN_UP_REFUSALS = {
  sign_up_closed: "This Enclave is not taking new accounts. Ask its operator for access.",
  invitation_required: "This Enclave opens accounts by invitation only, and there is no pending invitation for your email. Ask an admin to invite you.",
  email_unverified: "Your sign-in has no verified email address yet; verify it with the sign-in provider first.",
  email_taken: "Another account already uses this email address.",
} as const;

/** A pending invitation for `email`: not accepted, not revoked, not expired. Read here, not through lib/access/invitations.ts, which lib/auth cannot import (architecture.test.ts: no folder cycles). */
async function hasPendingInvitation(tx: ControlTx, email: string, now: number): Promise<boolean> {
  const [row] = await tx
    .select({ id: invitations.id })
    .from(invitations)
    .where(and(eq(invitations.email, email), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, now)))
    .limit(1);
  return row !== undefined;
}

async function assertMayJoin(tx: ControlTx, email: string, now: number): Promise<void> {
  const policy = getConfig().ENCLAVE_SIGNUP;
  if (policy === "closed") throw new SignUpRefusedError("sign_up_closed");
  if (policy === "invite" && !(await hasPendingInvitation(tx, email, now))) throw new SignUpRefusedError("invitation_required");
}

export const findUserByClerkId = async (clerkUserId: string): Promise<User | undefined> => {
  const control = await getControlDb();
  return control.db.query.users.findFirst({ where: eq(users.clerkUserId, clerkUserId) });
};

export type ClerkIdentity = { clerkUserId: string; email: string | null; verifiedAt: number };

/** The account for this Clerk user, linked or created in `tx` (or a transaction of its own); SignUpRefusedError when the rules say no. */
export async function linkClerkUser(identity: ClerkIdentity, options: { tx?: ControlTx; now?: number; via: "session" | "webhook" }): Promise<User> {
  const now = options.now ?? Date.now();
  const run = async (tx: ControlTx): Promise<User> => {
    const linked = await tx.query.users.findFirst({ where: eq(users.clerkUserId, identity.clerkUserId) });
    if (linked) return linked;
    if (!identity.email) throw new SignUpRefusedError("email_unverified");
    const email = identity.email;
    const existing = await tx.query.users.findFirst({ where: eq(users.email, email) });
    const actor = { type: "system" as const, id: "clerk" };
    if (existing && existing.closedAt === null) {
      if (existing.clerkUserId !== null) throw new SignUpRefusedError("email_taken");
      const link = { clerkUserId: identity.clerkUserId, emailVerifiedAt: existing.emailVerifiedAt ?? identity.verifiedAt };
      await tx.update(users).set(link).where(and(eq(users.id, existing.id), isNull(users.clerkUserId)));
      await auditControlTx(tx, { actor, action: "clerk.user_linked", target: existing.id, details: { clerkUserId: identity.clerkUserId, via: options.via } });
      return { ...existing, ...link };
    }
    await assertMayJoin(tx, email, now);
    // As local sign-up: a purged account's tombstone with this email comes back as a fresh account (lib/auth/users.ts).
    // No password: Clerk signs this person in. "" never verifies, at the cost of a real hash (lib/auth/password.ts).
    const user = await insertFreshAccount(tx, { email, passwordHash: "", tombstoneId: existing?.id, clerkUserId: identity.clerkUserId, emailVerifiedAt: identity.verifiedAt, now });
    await auditControlTx(tx, {
      actor,
      action: "user.sign_up",
      target: user.id,
      details: { email, provider: "clerk", clerkUserId: identity.clerkUserId, via: options.via, ...(existing ? { reactivated: true } : {}) },
    });
    return user;
  };
  if (options.tx) return run(options.tx);
  const control = await getControlDb();
  return control.transaction(run);
}
