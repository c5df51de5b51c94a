import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { memberships, workspaces, type Role } from "@/db/control/schema";
import { auditControlTx, auditWorkspace, type Actor } from "../audit/audit";
import { randomId, WORKSPACE_ID_PATTERN } from "../crypto/tokens";
import { createWorkspaceFile, getControlDb } from "../db/store";

export const workspaceNameSchema = z
  .string()
  .trim()
  .min(1, "Give the workspace a name.")
  .max(80, "Keep the name under 80 characters.")
  .refine((name) => !/[\u0000-\u001f\u007f]/.test(name), "The name cannot contain control characters.");

export const createWorkspaceSchema = z.object({ name: workspaceNameSchema });

export type WorkspaceSummary = { id: string; name: string; role: Role; createdAt: number };

/**
 * A new workspace: its own encrypted file first, then the control rows (workspace, owner
 * membership, audit) in one transaction. A crash between the two leaves an unreferenced file,
 * never a listed workspace without a file.
 */
export async function createWorkspace(ownerId: string, name: string, actor?: Actor): Promise<WorkspaceSummary> {
  const id = randomId("ws");
  const createdAt = Date.now();
  await createWorkspaceFile(id);
  const control = await getControlDb();
  const by: Actor = actor ?? { type: "user", id: ownerId };
  await control.transaction(async (tx) => {
    await tx.insert(workspaces).values({ id, name, createdAt, createdBy: ownerId });
    await tx.insert(memberships).values({ workspaceId: id, userId: ownerId, role: "owner", createdAt });
    await auditControlTx(tx, { actor: by, action: "workspace.create", target: id, details: { name, owner: ownerId } });
  });
  await auditWorkspace(id, { actor: by, action: "workspace.create", target: id, details: { name } });
  return { id, name, role: "owner", createdAt };
}

export async function listWorkspacesForUser(userId: string): Promise<WorkspaceSummary[]> {
  const control = await getControlDb();
  return control.db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role, createdAt: workspaces.createdAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(workspaces.name));
}

export async function listAllWorkspaces(): Promise<{ id: string; name: string; createdAt: number }[]> {
  const control = await getControlDb();
  return control.db.select({ id: workspaces.id, name: workspaces.name, createdAt: workspaces.createdAt }).from(workspaces).orderBy(asc(workspaces.createdAt));
}

/** The workspace as `userId` sees it, or null when it does not exist or they are not a member. */
export async function getWorkspaceForMember(userId: string, workspaceId: string): Promise<WorkspaceSummary | null> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) return null;
  const control = await getControlDb();
  const [row] = await control.db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role, createdAt: workspaces.createdAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId)))
    .limit(1);
  return row ?? null;
}
