import { and, eq, gt, isNull } from "drizzle-orm";
import { oauthGrants, oauthTokens } from "@/db/control/schema";
import type { Scope } from "../access/scopes";
import { isWellFormedSecret, sha256Hex } from "../crypto/tokens";
import { getControlDb } from "../db/store";
import { recordUse } from "../access/tokens";
import { ACCESS_TOKEN_PREFIX } from "./grants";

/** An OAuth access token's holder: a client acting for one person in one workspace. */
export type OAuthPrincipal = {
  kind: "oauth";
  grantId: string;
  clientId: string;
  userId: string;
  workspaceId: string;
  scopes: Scope[];
};


/**
 * The principal an OAuth access token stands for, or null when it is unknown, expired, its
 * grant revoked, or it was issued for another resource than `resource` (the audience check:
 * a token for this MCP endpoint is no good at any other). The person's current role is
 * applied later, by `accessTo`.
 */
export async function resolveOAuthAccessToken(token: string, resource: string): Promise<OAuthPrincipal | null> {
  if (!isWellFormedSecret(token, ACCESS_TOKEN_PREFIX)) return null;
  const control = await getControlDb();
  const now = Date.now();
  const [row] = await control.db
    .select({
      grantId: oauthGrants.id,
      clientId: oauthGrants.clientId,
      userId: oauthGrants.userId,
      workspaceId: oauthGrants.workspaceId,
      resource: oauthGrants.resource,
      lastUsedAt: oauthGrants.lastUsedAt,
      scopes: oauthTokens.scopes,
    })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .where(and(eq(oauthTokens.tokenHash, sha256Hex(token)), eq(oauthTokens.kind, "access"), gt(oauthTokens.expiresAt, now), isNull(oauthGrants.revokedAt)))
    .limit(1);
  if (!row || row.resource !== resource) return null;
  recordUse(row.lastUsedAt, now, () => control.db.update(oauthGrants).set({ lastUsedAt: now }).where(eq(oauthGrants.id, row.grantId)));
  return { kind: "oauth", grantId: row.grantId, clientId: row.clientId, userId: row.userId, workspaceId: row.workspaceId, scopes: JSON.parse(row.scopes) as Scope[] };
}
