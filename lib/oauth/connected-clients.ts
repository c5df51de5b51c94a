import { and, desc, eq, isNull } from "drizzle-orm";
import { oauthGrants, users, workspaces } from "@/db/control/schema";
import type { Scope } from "../access/scopes";
import { auditControlTx, type Actor } from "../audit/audit";
import { getControlDb } from "../db/store";
import { notFound } from "../http/errors";
import { revokeGrantTx } from "./grants";

/**
 * "Connected AI clients": the live grants, for the person who consented (all their
 * workspaces) and for a workspace's admins (everyone's, in that workspace). Revoking ends the
 * grant; its tokens fail on their next request because every token check joins the grant.
 */
export type ConnectedClient = {
  grantId: string;
  clientId: string;
  clientName: string;
  userId: string;
  /** Who connected it, for admins reading the list: an id alone names no one. */
  userEmail: string;
  workspaceId: string;
  workspaceName: string;
  scopes: Scope[];
  redirectUri: string;
  createdAt: number;
  lastUsedAt: number | null;
};

type Owner = { userId: string } | { workspaceId: string };

const ownedBy = (owner: Owner) =>
  "userId" in owner ? eq(oauthGrants.userId, owner.userId) : eq(oauthGrants.workspaceId, owner.workspaceId);

export async function listConnectedClients(owner: Owner): Promise<ConnectedClient[]> {
  const control = await getControlDb();
  const rows = await control.db
    .select({
      grantId: oauthGrants.id,
      clientId: oauthGrants.clientId,
      clientName: oauthGrants.clientName,
      userId: oauthGrants.userId,
      userEmail: users.email,
      workspaceId: oauthGrants.workspaceId,
      workspaceName: workspaces.name,
      scopes: oauthGrants.scopes,
      redirectUri: oauthGrants.redirectUri,
      createdAt: oauthGrants.createdAt,
      lastUsedAt: oauthGrants.lastUsedAt,
    })
    .from(oauthGrants)
    .innerJoin(workspaces, eq(workspaces.id, oauthGrants.workspaceId))
    .innerJoin(users, eq(users.id, oauthGrants.userId))
    .where(and(ownedBy(owner), isNull(oauthGrants.revokedAt)))
    .orderBy(desc(oauthGrants.createdAt));
  return rows.map((row) => ({ ...row, scopes: JSON.parse(row.scopes) as Scope[] }));
}

/** Revokes one grant of `owner`'s; another person's or another workspace's grant is a 404. */
export async function revokeConnectedClient(owner: Owner, grantId: string, actor: Actor): Promise<void> {
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ workspaceId: oauthGrants.workspaceId, revokedAt: oauthGrants.revokedAt, clientName: oauthGrants.clientName })
      .from(oauthGrants)
      .where(and(eq(oauthGrants.id, grantId), ownedBy(owner)));
    if (!row) throw notFound("No such connected client.");
    if (row.revokedAt !== null) return;
    await revokeGrantTx(tx, grantId, "userId" in owner ? "revoked_by_person" : "revoked_by_admin");
    await auditControlTx(tx, { actor, action: "oauth.grant_revoke", target: grantId, details: { workspaceId: row.workspaceId, clientName: row.clientName } });
  });
}
