import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { memberships, users } from "@/db/control/schema";
import { InsufficientScopeError, type WorkspaceAccess } from "../access/authorize";
import { auditControlTx, auditWorkspace } from "../audit/audit";
import { isClosingAccount } from "../auth/provider";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { text } from "../http/text";
import { actingOwner } from "./owners";

/**
 * Handing a workspace over: the owner makes another member owner and becomes an admin, in one
 * control transaction (the roles are read again inside it, so two transfers racing cannot
 * leave the workspace with no owner). Only an existing member of a live account can take it:
 * a stranger must be added first, and a closing account would take the workspace down with it.
 */
export const transferSchema = z.object({ userId: text(64).min(1, "Choose the member who becomes the owner.") });

export async function transferOwnership(access: WorkspaceAccess<"ownership">, toUserId: string): Promise<{ from: string; to: string }> {
  const from = actingOwner(access);
  const { workspaceId, actor } = access;
  if (toUserId === from) throw new HttpError(400, "transfer_to_self", "You already own this workspace: choose another member.");
  const control = await getControlDb();
  const previousRole = await control.transaction(async (tx) => {
    const roleOf = async (userId: string) => {
      const [row] = await tx
        .select({ role: memberships.role, closureRequestedAt: users.closureRequestedAt, closedAt: users.closedAt })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
      return row;
    };
    // authorize() saw an owner; the transaction makes sure they still are one.
    if ((await roleOf(from))?.role !== "owner") throw new InsufficientScopeError("ownership");
    const target = await roleOf(toUserId);
    if (!target) throw notFound("No such member in this workspace: add them as a member first.");
    if (target.role === "owner") throw new HttpError(409, "already_owner", "They are already an owner of this workspace.");
    if (isClosingAccount(target)) throw new HttpError(409, "account_closing", "Their account is closing: choose another member.");
    await tx.update(memberships).set({ role: "owner" }).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, toUserId)));
    await tx.update(memberships).set({ role: "admin" }).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, from)));
    // The old owner just lost the owner's scopes: a stream of theirs re-checks.
    await bumpAccessEpoch(tx);
    await auditControlTx(tx, { actor, action: "workspace.transfer", target: workspaceId, details: { from, to: toUserId, previousRole: target.role } });
    return target.role;
  });
  await auditWorkspace(workspaceId, { actor, action: "workspace.transfer", target: workspaceId, details: { from, to: toUserId, previousRole } });
  return { from, to: toUserId };
}
