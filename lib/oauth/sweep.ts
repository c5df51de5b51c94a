import { eq, lt, notExists } from "drizzle-orm";
import { oauthCodes, oauthGrants, oauthTokens } from "@/db/control/schema";
import { getControlDb } from "../db/store";

/**
 * Forgets what can no longer be used, so control.db does not grow with every connection:
 *   - expired access and refresh tokens;
 *   - codes a day after they expired (kept that long so a late second redemption is still
 *     recognised as reuse and revokes what the first produced);
 *   - grants with no token left (a client that never asked to stay connected, or one whose
 *     refresh token lapsed): nothing can act on them, so they no longer show as connected.
 * The audit trail keeps the history of all of them.
 */
const CODE_KEPT_AFTER_EXPIRY_MS = 24 * 60 * 60 * 1000;

export async function sweepExpiredOAuthRows(now = Date.now()): Promise<{ codes: number; tokens: number; grants: number }> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const codes = await tx.delete(oauthCodes).where(lt(oauthCodes.expiresAt, now - CODE_KEPT_AFTER_EXPIRY_MS)).returning({ id: oauthCodes.codeHash });
    const tokens = await tx.delete(oauthTokens).where(lt(oauthTokens.expiresAt, now)).returning({ id: oauthTokens.tokenHash });
    const grants = await tx
      .delete(oauthGrants)
      .where(notExists(tx.select({ id: oauthTokens.tokenHash }).from(oauthTokens).where(eq(oauthTokens.grantId, oauthGrants.id))))
      .returning({ id: oauthGrants.id });
    return { codes: codes.length, tokens: tokens.length, grants: grants.length };
  });
}
