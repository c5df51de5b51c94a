import { createHash } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { memberships, oauthCodes, oauthGrants, oauthTokens, users } from "@/db/control/schema";
import { isSuspended } from "../auth/suspension";
import { capByRole } from "../access/scopes";
import { auditControlTx, type Actor } from "../audit/audit";
import { assertRoomFor, PlanLimitError } from "../billing/limits";
import { getConfig } from "../config";
import { constantTimeEqual, hashSecret, mintSecret } from "../crypto/secrets";
import { randomId } from "../crypto/ids";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb } from "../db/store";
import type { Drizzle } from "../db/database";
import type { OAuthClient } from "./clients";
import { isOurResource, parseScopes } from "./authorization-request";
import { oauthError } from "./errors";
import type { TokenForm } from "./forms";
import { OFFLINE_ACCESS, type OAuthScope } from "./resource";

/**
 * The token endpoint's two grants. Every token descends from a grant (one person, one
 * client, one workspace, one resource); the grant is what dies when something is wrong:
 *   - a code redeemed twice: whoever holds it is not only the client, so the tokens from the
 *     first redemption are revoked too (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3);
 *   - a refresh token presented after it was rotated: one of two parties holds a stolen copy,
 *     and we cannot tell which, so the whole family goes (OAuth 2.1 §4.3.1).
 * Tokens are opaque 256-bit values stored only as SHA-256. An access token lives
 * ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS (an hour by default); a refresh token 30 days.
 */
const accessTokenLifetimeMs = () => getConfig().ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS * 1000;
export const REFRESH_TOKEN_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

type Tx = Drizzle<Record<string, unknown>>;

export type TokenResponse = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
};

const invalidGrant = (why: string) => oauthError("invalid_grant", why);
const clientActor = (client: OAuthClient): Actor => ({ type: "oauth", id: client.id });

async function issueTokens(tx: Tx, grantId: string, scopes: OAuthScope[], withRefresh: boolean): Promise<TokenResponse> {
  const now = Date.now();
  const lifetimeMs = accessTokenLifetimeMs();
  const access = mintSecret("accessToken");
  const rows: (typeof oauthTokens.$inferInsert)[] = [{ tokenHash: access.hash, grantId, kind: "access", scopes: JSON.stringify(scopes), createdAt: now, expiresAt: now + lifetimeMs }];
  const refresh = withRefresh ? mintSecret("refreshToken") : undefined;
  if (refresh) {
    rows.push({ tokenHash: refresh.hash, grantId, kind: "refresh", scopes: JSON.stringify(scopes), createdAt: now, expiresAt: now + REFRESH_TOKEN_LIFETIME_MS });
  }
  await tx.insert(oauthTokens).values(rows);
  return {
    access_token: access.secret,
    token_type: "Bearer",
    expires_in: lifetimeMs / 1000,
    scope: [...scopes, ...(refresh ? [OFFLINE_ACCESS] : [])].join(" "),
    ...(refresh ? { refresh_token: refresh.secret } : {}),
  };
}

async function revokeGrantTx(tx: Tx, grantId: string, reason: string): Promise<void> {
  await tx.update(oauthGrants).set({ revokedAt: Date.now(), revokedReason: reason }).where(and(eq(oauthGrants.id, grantId), isNull(oauthGrants.revokedAt)));
  await bumpAccessEpoch(tx);
}

function pkceMatches(verifier: string, challenge: string): boolean {
  return constantTimeEqual(createHash("sha256").update(verifier, "ascii").digest("base64url"), challenge);
}

/**
 * Reuse detection has to outlive the transaction that found it, so the reuse is recorded
 * (grant revoked, audit row written) and committed, and only then is the client told no.
 */
async function refuseAfterCommit<T>(work: (tx: Tx) => Promise<T | Error>): Promise<T> {
  const control = await getControlDb();
  const result = await control.transaction(work);
  if (result instanceof Error) throw result;
  return result;
}

export function exchangeAuthorizationCode(client: OAuthClient, form: TokenForm): Promise<TokenResponse> {
  const { code, code_verifier: verifier } = form;
  if (!code) throw oauthError("invalid_request", "Send the authorization code (code).");
  if (!verifier) throw oauthError("invalid_request", "PKCE is required: send code_verifier.");
  return refuseAfterCommit<TokenResponse>(async (tx) => {
    const [row] = await tx.select().from(oauthCodes).where(eq(oauthCodes.codeHash, hashSecret(code))).limit(1);
    if (!row || row.clientId !== client.id) return invalidGrant("The code is unknown, or was issued to another client.");
    if (row.usedAt !== null) {
      if (row.grantId) await revokeGrantTx(tx, row.grantId, "code_reuse");
      await auditControlTx(tx, { actor: clientActor(client), action: "oauth.code_reuse", target: row.grantId, details: { workspaceId: row.workspaceId, userId: row.userId } });
      return invalidGrant("The code was already used; every token issued from it is now revoked.");
    }
    // Any failed attempt burns the code: a stolen code gets one guess at the verifier.
    await tx.update(oauthCodes).set({ usedAt: Date.now() }).where(eq(oauthCodes.codeHash, row.codeHash));
    if (row.expiresAt <= Date.now()) return invalidGrant("The code has expired.");
    const redirectUri = form.redirect_uri;
    if (redirectUri !== undefined && redirectUri !== row.redirectUri) return invalidGrant("redirect_uri differs from the one the code was issued for.");
    if (!CODE_VERIFIER.test(verifier) || !pkceMatches(verifier, row.codeChallenge)) return invalidGrant("The code_verifier does not match the code_challenge.");
    const resource = form.resource;
    if (resource !== undefined && !isOurResource(resource)) return oauthError("invalid_target", "The code was issued for another resource.");

    // Consent checked the plan's AI-client limit; two codes consented at once could both have passed it.
    try {
      await assertRoomFor("aiClients", row.workspaceId, { reader: tx, connecting: { userId: row.userId, clientId: client.id } });
    } catch (error) {
      // Returned, not thrown: the code stays burnt.
      if (error instanceof PlanLimitError) return invalidGrant(error.message);
      throw error;
    }

    const scopes = JSON.parse(row.scopes) as OAuthScope[];
    const grantId = randomId("grt");
    await tx.insert(oauthGrants).values({
      id: grantId,
      clientId: client.id,
      clientName: row.clientName,
      userId: row.userId,
      workspaceId: row.workspaceId,
      scopes: row.scopes,
      resource: row.resource,
      redirectUri: row.redirectUri,
      createdAt: Date.now(),
    });
    await tx.update(oauthCodes).set({ grantId }).where(eq(oauthCodes.codeHash, row.codeHash));
    // `offlineAccess` on the code: the consent page told the person this client stays
    // connected, because it registered the refresh_token grant (authorization-request.ts).
    // Checked again against the client as it is now: a metadata document may have changed.
    const withRefresh = row.offlineAccess && client.grantTypes.includes("refresh_token");
    const tokens = await issueTokens(tx, grantId, scopes, withRefresh);
    await auditControlTx(tx, {
      actor: clientActor(client),
      action: "oauth.token_issue",
      target: grantId,
      details: { workspaceId: row.workspaceId, userId: row.userId, scopes, refresh: withRefresh },
    });
    return tokens;
  });
}

export function refreshAccessToken(client: OAuthClient, form: TokenForm): Promise<TokenResponse> {
  const token = form.refresh_token;
  if (!token) throw oauthError("invalid_request", "Send the refresh_token.");
  return refuseAfterCommit<TokenResponse>(async (tx) => {
    const [row] = await tx
      .select({ token: oauthTokens, grant: oauthGrants })
      .from(oauthTokens)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
      .where(and(eq(oauthTokens.tokenHash, hashSecret(token)), eq(oauthTokens.kind, "refresh")))
      .limit(1);
    if (!row || row.grant.clientId !== client.id) return invalidGrant("The refresh token is unknown, or was issued to another client.");
    if (row.grant.revokedAt !== null) return invalidGrant("This connection was revoked; sign in again.");
    if (row.token.usedAt !== null) {
      await revokeGrantTx(tx, row.grant.id, "refresh_reuse");
      await auditControlTx(tx, {
        actor: clientActor(client),
        action: "oauth.refresh_reuse",
        target: row.grant.id,
        details: { workspaceId: row.grant.workspaceId, userId: row.grant.userId },
      });
      return invalidGrant("The refresh token was already used; the whole connection is now revoked.");
    }
    if (row.token.expiresAt <= Date.now()) return invalidGrant("The refresh token has expired; sign in again.");
    // Not revoked: lifting the suspension gives the client its connection back.
    const [person] = await tx.select({ suspendedAt: users.suspendedAt }).from(users).where(eq(users.id, row.grant.userId));
    if (person && isSuspended(person)) return invalidGrant("The person who connected this client is suspended by the operator.");
    const [membership] = await tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, row.grant.workspaceId), eq(memberships.userId, row.grant.userId)));
    if (!membership) {
      await revokeGrantTx(tx, row.grant.id, "member_removed");
      return invalidGrant("The person who connected this client is no longer in the workspace.");
    }
    const resource = form.resource;
    if (resource !== undefined && !isOurResource(resource)) return oauthError("invalid_target", "A refresh keeps the resource it was granted for.");
    const held = JSON.parse(row.token.scopes) as OAuthScope[];
    const wanted = form.scope;
    let scopes = held;
    if (wanted !== undefined) {
      const asked = parseScopes(wanted).scopes;
      if (asked.some((scope) => !held.includes(scope))) return oauthError("invalid_scope", "A refresh can only narrow the scopes granted.");
      if (asked.length > 0) scopes = asked;
    }
    // A demoted person's client keeps only what their role still allows.
    scopes = capByRole(scopes, membership.role);
    if (scopes.length === 0) return invalidGrant("Your role no longer allows any of the scopes this client was granted.");
    await tx.update(oauthTokens).set({ usedAt: Date.now() }).where(eq(oauthTokens.tokenHash, row.token.tokenHash));
    const tokens = await issueTokens(tx, row.grant.id, scopes, true);
    await auditControlTx(tx, { actor: clientActor(client), action: "oauth.token_refresh", target: row.grant.id, details: { scopes } });
    return tokens;
  });
}

/**
 * RFC 7009. A client may revoke only its own tokens; anything else (unknown, someone else's)
 * is answered the same 200 and changes nothing. Revoking either kind of token ends the grant:
 * a client revoking a token is disconnecting.
 */
export async function revokeClientToken(client: OAuthClient, token: string): Promise<void> {
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ grantId: oauthGrants.id, clientId: oauthGrants.clientId, revokedAt: oauthGrants.revokedAt, workspaceId: oauthGrants.workspaceId })
      .from(oauthTokens)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
      .where(eq(oauthTokens.tokenHash, hashSecret(token)))
      .limit(1);
    if (!row || row.clientId !== client.id || row.revokedAt !== null) return;
    await revokeGrantTx(tx, row.grantId, "client_revoked");
    await auditControlTx(tx, { actor: clientActor(client), action: "oauth.grant_revoke", target: row.grantId, details: { workspaceId: row.workspaceId, by: "client" } });
  });
}

export { revokeGrantTx };
