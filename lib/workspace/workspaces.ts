import { and, asc, count, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { memberships, workspaces, type Role } from "@/db/control/schema";
import type { WorkspaceSchema } from "@/db/workspace/schema";
import { actorOf, OPERATOR } from "../access/principal";
import { auditControlTx, auditWorkspaceTx } from "../audit/audit";
import { getConfig } from "../config";
import { randomId, WORKSPACE_ID_PATTERN } from "../crypto/ids";
import type { Drizzle } from "../db/database";
import { createWorkspaceFile, getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import { nameText } from "../http/text";

export const workspaceNameSchema = nameText(80, "Give the workspace a name.");

export const createWorkspaceSchema = z.object({ name: workspaceNameSchema });

export type WorkspaceSummary = { id: string; name: string; role: Role; createdAt: number };

/** Who is creating a workspace: a person through the portal (capped) or the operator's CLI (not). */
export type WorkspaceCreator = { type: "user"; userId: string } | { type: "operator"; ownerId: string };

/**
 * A new workspace: its encrypted file, made and migrated under a pending name, and the control
 * rows (workspace, owner membership, audit) in one transaction; the file takes its real name
 * only once the rows have committed (createWorkspaceFile), so a failed or refused creation
 * leaves nothing behind. A person may own at most ENCLAVE_MAX_WORKSPACES_PER_USER workspaces,
 * counted inside the transaction so concurrent requests cannot slip past it together.
 */
export async function createWorkspace(creator: WorkspaceCreator, name: string, seed?: WorkspaceSeed): Promise<WorkspaceSummary> {
  const id = randomId("ws");
  const createdAt = Date.now();
  const ownerId = creator.type === "user" ? creator.userId : creator.ownerId;
  const actor = actorOf(creator.type === "user" ? { kind: "user", userId: ownerId } : OPERATOR);
  const action = seed?.action ?? "workspace.create";
  const control = await getControlDb();
  let details: Record<string, unknown> = { name };
  await createWorkspaceFile(id, {
    init: (db) =>
      db.transaction(async (tx) => {
        if (seed) details = { name, ...(await seed.fill(tx)) };
        await auditWorkspaceTx(tx, id, { actor, action, target: id, details });
      }),
    commit: () =>
      control.transaction(async (tx) => {
        if (creator.type === "user") await assertBelowWorkspaceCap(tx, ownerId);
        await tx.insert(workspaces).values({ id, name, createdAt, createdBy: ownerId });
        await tx.insert(memberships).values({ workspaceId: id, userId: ownerId, role: "owner", createdAt });
        await auditControlTx(tx, { actor, action, target: id, details: { ...details, owner: ownerId } });
      }),
  });
  return { id, name, role: "owner", createdAt };
}

/**
 * What a new workspace starts with besides its first audit row: an import's data, written by
 * `fill` into the pending file in the same transaction as that row (so a failed fill leaves no
 * file and no control row). What `fill` returns is recorded in both chains' first rows.
 */
export type WorkspaceSeed = { action: "workspace.import"; fill: (tx: Drizzle<WorkspaceSchema>) => Promise<Record<string, unknown>> };

async function assertBelowWorkspaceCap(tx: ControlTx, userId: string): Promise<void> {
  const cap = getConfig().ENCLAVE_MAX_WORKSPACES_PER_USER;
  // A deleted workspace no longer counts: deleting one is how a person at the cap makes room.
  const [{ owned } = { owned: 0 }] = await tx
    .select({ owned: count() })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.role, "owner"), isNull(workspaces.deletedAt)));
  if (owned >= cap) {
    throw new HttpError(403, "workspace_limit", `You already own ${owned} workspaces, the most this server allows (${cap}). Delete or hand over one first.`);
  }
}

/** The live workspaces `userId` belongs to (deleted ones are listed apart: lib/lifecycle/workspace-deletion.ts). */
export async function listWorkspacesForUser(userId: string): Promise<WorkspaceSummary[]> {
  const control = await getControlDb();
  return control.db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role, createdAt: workspaces.createdAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), isNull(workspaces.deletedAt)))
    .orderBy(asc(workspaces.name));
}

export async function listAllWorkspaces(): Promise<{ id: string; name: string; createdAt: number }[]> {
  const control = await getControlDb();
  return control.db
    .select({ id: workspaces.id, name: workspaces.name, createdAt: workspaces.createdAt })
    .from(workspaces)
    .where(isNull(workspaces.deletedAt))
    .orderBy(asc(workspaces.createdAt));
}

/** The workspace as `userId` sees it, or null when it does not exist, is deleted, or they are not a member. */
export async function getWorkspaceForMember(userId: string, workspaceId: string): Promise<WorkspaceSummary | null> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) return null;
  const control = await getControlDb();
  const [row] = await control.db
    .select({ id: workspaces.id, name: workspaces.name, role: memberships.role, createdAt: workspaces.createdAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId), isNull(workspaces.deletedAt)))
    .limit(1);
  return row ?? null;
}
