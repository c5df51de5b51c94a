import { and, asc, eq, gt, isNotNull, isNull, type SQL } from "drizzle-orm";
import { z } from "zod";
import { memberships, oauthCodes, oauthGrants, teamTokens, workspaces } from "@/db/control/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { auditControlTx, auditWorkspace, type Actor } from "../audit/audit";
import { oweCancellationsTx, settleOwedCancellations } from "../billing/cancellation";
import { getConfig } from "../config";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { nameText } from "../http/text";
import { actingOwner } from "./owners";

/**
 * Deleting a workspace, and taking it back. Deletion is a mark, not an erasure: the row gets
 * deletedAt/purgeAt and from then on authorize() answers 404 for it to every principal on every
 * surface (lib/access/authorize.ts, the one place). Every team token and AI-client grant on it
 * is revoked in the same transaction, so a restore does not silently revive a credential
 * someone may have forgotten; its members stay, so its owner can restore it until purgeAt,
 * when the purge job erases its file and its row (purge.ts). A paid subscription is cancelled
 * at Razorpay (lib/billing/cancellation.ts): the duty in this transaction, the call after it.
 */
const DAY_MS = 24 * 60 * 60 * 1000;

/** When something deleted or closed now is erased: ENCLAVE_CLOSURE_HOLD_DAYS from `now`. */
export const holdEndsAt = (now: number, days = getConfig().ENCLAVE_CLOSURE_HOLD_DAYS): number => now + days * DAY_MS;

export const deleteWorkspaceSchema = z.object({ confirmName: nameText(80, "Type the workspace's name to confirm.") });

export type DeletionReason = "owner" | "account_closure";

type Deletion = { actor: Actor; deletedBy: string; deletedWith: DeletionReason; now: number; purgeAt: number };

/** Inside a control transaction: marks the workspace deleted and stops every credential on it. */
export async function markWorkspaceDeletedTx(tx: ControlTx, workspaceId: string, deletion: Deletion): Promise<{ tokensRevoked: number; grantsRevoked: number }> {
  const { now } = deletion;
  const [marked] = await tx
    .update(workspaces)
    .set({ deletedAt: now, deletedBy: deletion.deletedBy, deletedWith: deletion.deletedWith, purgeAt: deletion.purgeAt })
    .where(and(eq(workspaces.id, workspaceId), isNull(workspaces.deletedAt)))
    .returning({ name: workspaces.name });
  if (!marked) throw notFound("No such workspace.");
  const tokens = await tx
    .update(teamTokens)
    .set({ revokedAt: now })
    .where(and(eq(teamTokens.workspaceId, workspaceId), isNull(teamTokens.revokedAt)))
    .returning({ id: teamTokens.id });
  const grants = await tx
    .update(oauthGrants)
    .set({ revokedAt: now, revokedReason: "workspace_deleted" })
    .where(and(eq(oauthGrants.workspaceId, workspaceId), isNull(oauthGrants.revokedAt)))
    .returning({ id: oauthGrants.id });
  // A code not yet redeemed would otherwise become a new grant on a deleted workspace.
  await tx.delete(oauthCodes).where(eq(oauthCodes.workspaceId, workspaceId));
  await oweCancellationsTx(tx, { workspaceIds: [workspaceId] }, deletion.actor, now);
  await bumpAccessEpoch(tx);
  const stopped = { tokensRevoked: tokens.length, grantsRevoked: grants.length };
  await auditControlTx(tx, {
    actor: deletion.actor,
    action: "workspace.delete",
    target: workspaceId,
    details: { name: marked.name, deletedWith: deletion.deletedWith, purgeAt: deletion.purgeAt, ...stopped },
  });
  return stopped;
}

/** The owner deletes their workspace, typing its name to confirm. */
export async function deleteWorkspace(access: WorkspaceAccess<"workspace:delete">, confirmName: string, now = Date.now()): Promise<{ workspaceId: string; purgeAt: number }> {
  const ownerId = actingOwner(access);
  const { workspaceId, actor } = access;
  const purgeAt = holdEndsAt(now);
  const control = await getControlDb();
  const stopped = await control.transaction(async (tx) => {
    const [row] = await tx.select({ name: workspaces.name }).from(workspaces).where(and(eq(workspaces.id, workspaceId), isNull(workspaces.deletedAt)));
    if (!row) throw notFound("No such workspace.");
    if (row.name !== confirmName) {
      throw new HttpError(400, "confirm_name_mismatch", "Type the workspace's name exactly as it is shown to delete it.", {}, { confirmName: ["This is not the workspace's name."] });
    }
    return markWorkspaceDeletedTx(tx, workspaceId, { actor, deletedBy: ownerId, deletedWith: "owner", now, purgeAt });
  });
  // Its own trail says so too, for as long as it exists (a restore makes that forever).
  await auditWorkspace(workspaceId, { actor, action: "workspace.delete", target: workspaceId, details: { purgeAt, ...stopped } });
  await settleOwedCancellations({ workspaceIds: [workspaceId] });
  return { workspaceId, purgeAt };
}

export type DeletedWorkspace = { id: string; name: string; deletedAt: number; purgeAt: number };

/** Deleted workspaces `userId` owns that can still be restored, for the "Deleted workspaces" list. */
export async function listDeletedWorkspaces(userId: string, now = Date.now()): Promise<DeletedWorkspace[]> {
  const control = await getControlDb();
  const rows = await control.db
    .select({ id: workspaces.id, name: workspaces.name, deletedAt: workspaces.deletedAt, purgeAt: workspaces.purgeAt })
    .from(workspaces)
    .innerJoin(memberships, and(eq(memberships.workspaceId, workspaces.id), eq(memberships.userId, userId), eq(memberships.role, "owner")))
    .where(and(isNotNull(workspaces.deletedAt), gt(workspaces.purgeAt, now)))
    .orderBy(asc(workspaces.name));
  return rows.map((row) => ({ ...row, deletedAt: row.deletedAt ?? 0, purgeAt: row.purgeAt ?? 0 }));
}

/**
 * Inside a control transaction: brings back the deleted workspaces `which` selects that are
 * still before their purgeAt. Revoked tokens and grants stay revoked.
 */
export async function restoreWorkspacesTx(tx: ControlTx, which: SQL | undefined, actor: Actor, now: number): Promise<string[]> {
  const restored = await tx
    .update(workspaces)
    .set({ deletedAt: null, deletedBy: null, deletedWith: null, purgeAt: null })
    .where(and(which, isNotNull(workspaces.deletedAt), gt(workspaces.purgeAt, now)))
    .returning({ id: workspaces.id, name: workspaces.name });
  for (const { id, name } of restored) await auditControlTx(tx, { actor, action: "workspace.restore", target: id, details: { name } });
  return restored.map(({ id }) => id);
}

/** Audits a restore in each workspace's own trail, after the control transaction committed. */
export async function auditRestoredWorkspaces(ids: readonly string[], actor: Actor): Promise<void> {
  for (const id of ids) await auditWorkspace(id, { actor, action: "workspace.restore", target: id });
}

/**
 * The owner takes a deleted workspace back before its purge. Not through authorize(), which
 * hides deleted workspaces from everyone: this looks the workspace up, deleted included, and
 * requires the person to be one of its owners. Anything else — never deleted, already purged,
 * past purgeAt, not theirs — is the same 404.
 */
export async function restoreWorkspace(userId: string, workspaceId: string, now = Date.now()): Promise<{ workspaceId: string }> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw notFound("No such deleted workspace.");
  const actor: Actor = { type: "user", id: userId };
  const control = await getControlDb();
  const [restored] = await control.transaction(async (tx) => {
    const [owner] = await tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId), eq(memberships.role, "owner")));
    return owner ? restoreWorkspacesTx(tx, eq(workspaces.id, workspaceId), actor, now) : [];
  });
  if (!restored) throw notFound("No such deleted workspace.");
  await auditRestoredWorkspaces([restored], actor);
  return { workspaceId: restored };
}
