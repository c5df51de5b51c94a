import { and, eq, gt, isNull, sql, type Placeholder } from "drizzle-orm";
import { memberships, oauthGrants, oauthTokens, teamTokens, users } from "@/db/control/schema";
import { isSuspended } from "../auth/suspension";
import { hashSecret, isWellFormedSecret } from "../crypto/secrets";
import { preparedPerHandle } from "../db/prepared";
import { getControlDb, type ControlDb } from "../db/store";
import { logger } from "../log/logger";
import type { OAuthPrincipal, TokenPrincipal } from "./principal";
import { tokenCap, type Scope } from "./scopes";

/**
 * Bearer secrets presented by programs — team tokens and OAuth access tokens — to the
 * principal they stand for. Shape and checksum first (no database touched for garbage), then
 * one equality lookup on the hash's unique index (lib/crypto/secrets.ts).
 */

// last_used_at is for people reading a token or client list, not for security: writing it at
// most once a minute keeps a busy token from turning every read into a control.db write.
const LAST_USED_GRANULARITY_MS = 60_000;

/** Writes a bearer credential's last use when the recorded one is over a minute old, without making the caller wait. */
export function recordUse(lastUsedAt: number | null, now: number, write: () => Promise<unknown>): void {
  if (lastUsedAt !== null && now - lastUsedAt <= LAST_USED_GRANULARITY_MS) return;
  write().catch((error: unknown) => logger.warn({ err: error }, "could not record a token's last use"));
}

/**
 * The one query behind every team-token check: the unique token_hash index, joined to the
 * issuer's current membership. (Exported so the API benchmark can show its plan.)
 */
export function teamTokenLookup(control: ControlDb, tokenHash: string | Placeholder) {
  return control.db
    .select({
      id: teamTokens.id,
      workspaceId: teamTokens.workspaceId,
      scopes: teamTokens.scopes,
      issuerType: teamTokens.issuerType,
      issuerRole: memberships.role,
      issuerSuspendedAt: users.suspendedAt,
      expiresAt: teamTokens.expiresAt,
      lastUsedAt: teamTokens.lastUsedAt,
    })
    .from(teamTokens)
    .leftJoin(memberships, and(eq(memberships.workspaceId, teamTokens.workspaceId), eq(memberships.userId, teamTokens.issuedBy)))
    .leftJoin(users, eq(users.id, teamTokens.issuedBy))
    .where(and(eq(teamTokens.tokenHash, tokenHash), isNull(teamTokens.revokedAt)))
    .limit(1);
}

const preparedTeamTokenLookup = preparedPerHandle((control: ControlDb) => teamTokenLookup(control, sql.placeholder("tokenHash")).prepare());

/** A team token's principal, or null when it is unknown, revoked, expired, or its issuer is suspended or can no longer grant anything. */
export async function resolveTeamToken(token: string): Promise<TokenPrincipal | null> {
  if (!isWellFormedSecret("teamToken", token)) return null;
  const control = await getControlDb();
  const [row] = await preparedTeamTokenLookup(control).all({ tokenHash: hashSecret(token) });
  const now = Date.now();
  if (!row || row.expiresAt <= now) return null;
  // A suspended issuer's tokens rest with them (lib/auth/suspension.ts); the operator's never are.
  if (row.issuerType === "user" && isSuspended({ suspendedAt: row.issuerSuspendedAt })) return null;
  // Capped at every request by what its issuer may grant today: demoted, they lose it; removed, it stops.
  const cap = tokenCap(row.issuerType === "operator" ? "operator" : row.issuerRole);
  const scopes = (JSON.parse(row.scopes) as Scope[]).filter((scope) => cap.includes(scope));
  if (scopes.length === 0) return null;
  recordUse(row.lastUsedAt, now, () => control.db.update(teamTokens).set({ lastUsedAt: now }).where(eq(teamTokens.id, row.id)));
  return { kind: "token", tokenId: row.id, workspaceId: row.workspaceId, scopes };
}

const preparedAccessTokenLookup = preparedPerHandle((control: ControlDb) =>
  control.db
    .select({
      grantId: oauthGrants.id,
      clientId: oauthGrants.clientId,
      userId: oauthGrants.userId,
      workspaceId: oauthGrants.workspaceId,
      resource: oauthGrants.resource,
      lastUsedAt: oauthGrants.lastUsedAt,
      scopes: oauthTokens.scopes,
      suspendedAt: users.suspendedAt,
    })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .innerJoin(users, eq(users.id, oauthGrants.userId))
    .where(and(eq(oauthTokens.tokenHash, sql.placeholder("tokenHash")), eq(oauthTokens.kind, "access"), gt(oauthTokens.expiresAt, sql.placeholder("now")), isNull(oauthGrants.revokedAt)))
    .limit(1)
    .prepare(),
);

/**
 * An OAuth access token's principal, or null when it is unknown, expired, its grant revoked,
 * its person suspended, or it was issued for another resource than `audience` (a token for the MCP endpoint is no
 * good at any other). The person's current role is applied by `authorize`.
 */
export async function resolveOAuthAccessToken(token: string, audience: string): Promise<OAuthPrincipal | null> {
  if (!isWellFormedSecret("accessToken", token)) return null;
  const control = await getControlDb();
  const now = Date.now();
  const [row] = await preparedAccessTokenLookup(control).all({ tokenHash: hashSecret(token), now });
  if (!row || row.resource !== audience || isSuspended(row)) return null;
  recordUse(row.lastUsedAt, now, () => control.db.update(oauthGrants).set({ lastUsedAt: now }).where(eq(oauthGrants.id, row.grantId)));
  return { kind: "oauth", grantId: row.grantId, clientId: row.clientId, userId: row.userId, workspaceId: row.workspaceId, scopes: JSON.parse(row.scopes) as Scope[] };
}

/** Any bearer secret a surface accepts: a team token, or (where `oauthAudience` is set) an OAuth access token for it. */
export async function resolveBearer(token: string, oauthAudience: string | null): Promise<TokenPrincipal | OAuthPrincipal | null> {
  return (await resolveTeamToken(token)) ?? (oauthAudience === null ? null : await resolveOAuthAccessToken(token, oauthAudience));
}

/**
 * The scopes an access token for `audience` was issued with, whatever became of it since
 * (expired, its grant revoked), or [] for a token we never issued. Only for the 401 challenge:
 * its holder re-authorising asks for what it had, not for less (until the sweep forgets it).
 * Grants nothing: the holder already knows what its own token carried.
 */
export async function scopesOfPresentedAccessToken(token: string, audience: string): Promise<Scope[]> {
  if (!isWellFormedSecret("accessToken", token)) return [];
  const control = await getControlDb();
  const [row] = await control.db
    .select({ scopes: oauthTokens.scopes, resource: oauthGrants.resource })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .where(and(eq(oauthTokens.tokenHash, hashSecret(token)), eq(oauthTokens.kind, "access")))
    .limit(1);
  return row && row.resource === audience ? (JSON.parse(row.scopes) as Scope[]) : [];
}
