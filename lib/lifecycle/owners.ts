import { and, asc, eq, isNull } from "drizzle-orm";
import { memberships, workspaces } from "@/db/control/schema";
import type { WorkspaceAccess } from "../access/authorize";
import type { ControlTx } from "../db/store";
import { HttpError } from "../http/errors";

/**
 * Handing a workspace over and deleting it are a person's acts, as its owner. No token, AI
 * client or the operator holds these scopes (lib/access/scopes.ts), so authorize() already
 * refuses them; this says so again where the act needs the person's id.
 */
export function actingOwner(access: WorkspaceAccess<"ownership" | "workspace:delete">): string {
  if (access.principal.kind !== "user" || access.role !== "owner") {
    throw new HttpError(403, "owner_only", "Only an owner of the workspace can do this, signed in to the portal.");
  }
  return access.principal.userId;
}

export type OwnedWorkspace = { id: string; name: string; owners: number; members: number };

/** The live workspaces `userId` owns, with how many owners and members each has (them included); inside a transaction, or on control.db for a read. */
export async function ownedWorkspaces(tx: ControlTx, userId: string): Promise<OwnedWorkspace[]> {
  const owned = await tx
    .select({ id: workspaces.id, name: workspaces.name })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.role, "owner"), isNull(workspaces.deletedAt)))
    .orderBy(asc(workspaces.name));
  const result: OwnedWorkspace[] = [];
  for (const workspace of owned) {
    const roles = await tx.select({ role: memberships.role }).from(memberships).where(eq(memberships.workspaceId, workspace.id));
    result.push({ ...workspace, owners: roles.filter((row) => row.role === "owner").length, members: roles.length });
  }
  return result;
}
