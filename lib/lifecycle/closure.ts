import { and, asc, eq, isNotNull, isNull } from "drizzle-orm";
import { oauthCodes, oauthGrants, sessions, teamTokens, users, workspaces } from "@/db/control/schema";
import { auditControlTx, auditWorkspace, type Actor } from "../audit/audit";
import { isClosingAccount } from "../auth/provider";
import { confirmReauth, type ReauthInput } from "../auth/reauth";
import type { SignedIn } from "../auth/sessions";
import { oweCancellationsTx, settleOwedCancellations } from "../billing/cancellation";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { ownedWorkspaces, type OwnedWorkspace } from "./owners";
import { auditRestoredWorkspaces, holdEndsAt, markWorkspaceDeletedTx, restoreWorkspacesTx } from "./workspace-deletion";

/**
 * Closing an account. At once, in one control transaction: the account is marked closing with
 * purgeAt = now + ENCLAVE_CLOSURE_HOLD_DAYS; every session ends (the person is signed out);
 * every team token they issued and every AI-client grant of theirs is revoked, and their
 * unredeemed authorization codes are dropped; each workspace they alone own is deleted with
 * the account (same purgeAt). A workspace someone else also owns stays with that owner. Every
 * subscription they pay for, and every one of the workspaces deleted with them, is cancelled at
 * Razorpay (lib/billing/cancellation.ts); their payment history stays (purge.ts never touches it).
 *
 * During the hold they may sign in, but reach only the closing page and Cancel closure
 * (lib/auth/provider.ts). Cancelling brings back the workspaces deleted with the account;
 * revoked credentials stay revoked. After the hold, purge.ts erases what the account held and
 * keeps its tombstone.
 */
export type ClosurePlan = {
  /** Owned alone, with other members: hand over first, or they are deleted with the account. */
  transferFirst: OwnedWorkspace[];
  /** Owned alone, used by nobody else: deleted with the account. */
  deletedWithAccount: OwnedWorkspace[];
  /** Owned together with someone else: stays with them. */
  staying: OwnedWorkspace[];
  purgeAt: number;
};

export async function closurePlan(userId: string, now = Date.now()): Promise<ClosurePlan> {
  const control = await getControlDb();
  const owned = await ownedWorkspaces(control.db, userId);
  const alone = owned.filter((workspace) => workspace.owners === 1);
  return {
    transferFirst: alone.filter((workspace) => workspace.members > 1),
    deletedWithAccount: alone.filter((workspace) => workspace.members === 1),
    staying: owned.filter((workspace) => workspace.owners > 1),
    purgeAt: holdEndsAt(now),
  };
}

export type ClosureSummary = {
  purgeAt: number;
  sessionsEnded: number;
  tokensRevoked: number;
  grantsRevoked: number;
  workspacesDeleted: string[];
};

/**
 * Closes `userId`'s account (the person through the portal, after re-authenticating, or the
 * operator's CLI). `holdDays` 0 makes it due for purge at once (`enclave account close --now`).
 */
export async function closeAccount(userId: string, actor: Actor, options: { now?: number; holdDays?: number } = {}): Promise<ClosureSummary> {
  const now = options.now ?? Date.now();
  const purgeAt = holdEndsAt(now, options.holdDays);
  const control = await getControlDb();
  const summary = await control.transaction((tx) => closeAccountTx(tx, userId, actor, now, purgeAt));
  await afterClosureCommitted(userId, summary, actor);
  return summary;
}

/**
 * What follows closeAccountTx once its transaction committed: the deleted workspaces' own audit
 * rows (each is another database), then the Razorpay cancellations the closure owes.
 */
export async function afterClosureCommitted(userId: string, summary: ClosureSummary, actor: Actor): Promise<void> {
  for (const workspaceId of summary.workspacesDeleted) {
    await auditWorkspace(workspaceId, { actor, action: "workspace.delete", target: workspaceId, details: { deletedWith: "account_closure", purgeAt: summary.purgeAt } });
  }
  await settleOwedCancellations({ userId, workspaceIds: summary.workspacesDeleted });
}

/** closeAccount's change, inside the caller's control transaction (the Clerk user.deleted webhook writes its receipt in the same one). */
export async function closeAccountTx(tx: ControlTx, userId: string, actor: Actor, now: number, purgeAt: number): Promise<ClosureSummary> {
  const [user] = await tx.select().from(users).where(eq(users.id, userId));
  if (!user || user.closedAt !== null) throw notFound("No such account.");
  if (isClosingAccount(user)) throw new HttpError(409, "already_closing", "This account is already closing.");
  await tx.update(users).set({ closureRequestedAt: now, purgeAt }).where(eq(users.id, userId));
  const ended = await tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
  const tokens = await tx
    .update(teamTokens)
    .set({ revokedAt: now })
    .where(and(eq(teamTokens.issuerType, "user"), eq(teamTokens.issuedBy, userId), isNull(teamTokens.revokedAt)))
    .returning({ id: teamTokens.id });
  const grants = await tx
    .update(oauthGrants)
    .set({ revokedAt: now, revokedReason: "account_closure" })
    .where(and(eq(oauthGrants.userId, userId), isNull(oauthGrants.revokedAt)))
    .returning({ id: oauthGrants.id });
  await tx.delete(oauthCodes).where(eq(oauthCodes.userId, userId));
  const deleted = (await ownedWorkspaces(tx, userId)).filter((workspace) => workspace.owners === 1);
  let tokensRevoked = tokens.length;
  let grantsRevoked = grants.length;
  for (const workspace of deleted) {
    const stopped = await markWorkspaceDeletedTx(tx, workspace.id, { actor, deletedBy: userId, deletedWith: "account_closure", now, purgeAt });
    tokensRevoked += stopped.tokensRevoked;
    grantsRevoked += stopped.grantsRevoked;
  }
  // What they pay for stops with them, in a workspace that stays with its other owner too (it falls to the free plan).
  await oweCancellationsTx(tx, { userId }, actor, now);
  await bumpAccessEpoch(tx);
  const result = { purgeAt, sessionsEnded: ended.length, tokensRevoked, grantsRevoked, workspacesDeleted: deleted.map((workspace) => workspace.id) };
  await auditControlTx(tx, { actor, action: "account.closure_requested", target: userId, details: result });
  return result;
}

/** The person closes their own account: re-authenticated in the same request (password, and code when MFA is on). */
export async function requestClosure(signedIn: SignedIn, input: ReauthInput, ip: string): Promise<ClosureSummary> {
  await confirmReauth(signedIn, input, ip);
  return closeAccount(signedIn.user.id, { type: "user", id: signedIn.user.id });
}

/**
 * Cancel closure, until purgeAt: the account is open again and the workspaces deleted with it
 * come back. Team tokens and AI clients revoked at closure stay revoked: the person issues or
 * connects them again, knowingly.
 */
export async function cancelClosure(userId: string, actor: Actor, now = Date.now()): Promise<{ workspacesRestored: string[] }> {
  const control = await getControlDb();
  const restored = await control.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    if (!user || !isClosingAccount(user)) throw new HttpError(409, "not_closing", "This account is not closing.");
    if (user.purgeAt !== null && user.purgeAt <= now) {
      throw new HttpError(409, "closure_final", "The hold has ended: this account is being erased and can no longer be kept.");
    }
    await tx.update(users).set({ closureRequestedAt: null, purgeAt: null }).where(eq(users.id, userId));
    const ids = await restoreWorkspacesTx(tx, and(eq(workspaces.deletedBy, userId), eq(workspaces.deletedWith, "account_closure")), actor, now);
    await auditControlTx(tx, { actor, action: "account.closure_cancelled", target: userId, details: { workspacesRestored: ids } });
    return ids;
  });
  await auditRestoredWorkspaces(restored, actor);
  return { workspacesRestored: restored };
}

export type AccountState = "open" | "closing" | "closed";
export type AccountListing = { id: string; email: string; createdAt: number; state: AccountState; purgeAt: number | null; closedAt: number | null };

const stateOf = (user: { closureRequestedAt: number | null; closedAt: number | null }): AccountState =>
  user.closedAt !== null ? "closed" : isClosingAccount(user) ? "closing" : "open";

/** Every account with its state, or only those in their hold (soonest purge first): `enclave account list [--closing]`. */
export async function listAccounts(options: { closingOnly?: boolean } = {}): Promise<AccountListing[]> {
  const control = await getControlDb();
  const rows = await control.db
    .select({ id: users.id, email: users.email, createdAt: users.createdAt, closureRequestedAt: users.closureRequestedAt, purgeAt: users.purgeAt, closedAt: users.closedAt })
    .from(users)
    .where(options.closingOnly ? and(isNotNull(users.closureRequestedAt), isNull(users.closedAt)) : undefined)
    .orderBy(options.closingOnly ? asc(users.purgeAt) : asc(users.email));
  return rows.map(({ closureRequestedAt, ...row }) => ({ ...row, state: stateOf({ closureRequestedAt, closedAt: row.closedAt }) }));
}
