import { and, eq } from "drizzle-orm";
import { oauthGrants, oauthTokens } from "@/db/control/schema";
import type { Scope } from "../access/scopes";
import { isWellFormedSecret, sha256Hex } from "../crypto/tokens";
import { getControlDb } from "../db/store";
import { ACCESS_TOKEN_PREFIX } from "./grants";

// Resolving an access token on a request is lib/access/bearer.ts's (one resolver for every bearer).
export { resolveOAuthAccessToken } from "../access/bearer";
export type { OAuthPrincipal } from "../access/principal";

/**
 * The scopes an access token for `resource` was issued with, whatever became of it since
 * (expired, its grant revoked), or [] for a token we never issued. Only for the 401 challenge:
 * its holder re-authorising asks for what it had, not for less (until the sweep forgets it).
 * Grants nothing: the holder already knows what its own token carried.
 */
export async function scopesOfPresentedToken(token: string, resource: string): Promise<Scope[]> {
  if (!isWellFormedSecret(token, ACCESS_TOKEN_PREFIX)) return [];
  const control = await getControlDb();
  const [row] = await control.db
    .select({ scopes: oauthTokens.scopes, resource: oauthGrants.resource })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .where(and(eq(oauthTokens.tokenHash, sha256Hex(token)), eq(oauthTokens.kind, "access")))
    .limit(1);
  return row && row.resource === resource ? (JSON.parse(row.scopes) as Scope[]) : [];
}
