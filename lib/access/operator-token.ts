import { eq, isNull } from "drizzle-orm";
import { operatorTokens } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { randomId } from "../crypto/ids";
import { constantTimeEqual, hashSecret, isWellFormedSecret, mintSecret } from "../crypto/secrets";
import { getControlDb } from "../db/store";
import { recordUse } from "./bearer";
import { OPERATOR_TOKEN, type OperatorPrincipal } from "./principal";

/**
 * The operator token (`enc_op_…`, lib/crypto/secrets.ts): one live at a time, minted by
 * `enclave operator token` (whoever runs it holds the master key), accepted on /api/operator
 * and nowhere else — bearer.ts does not know this kind, so every other surface answers it as
 * an unknown token. Only its SHA-256 is kept; minting a new one revokes the one before.
 */

/** Mints the operator token, revoking any earlier one in the same transaction. The secret is returned once and never stored. */
export async function issueOperatorToken(actor: Actor): Promise<{ id: string; token: string; revoked: number }> {
  const control = await getControlDb();
  const { secret, hash } = mintSecret("operatorToken");
  const id = randomId("opt");
  const now = Date.now();
  const revoked = await control.transaction(async (tx) => {
    const earlier = await tx.update(operatorTokens).set({ revokedAt: now }).where(isNull(operatorTokens.revokedAt)).returning({ id: operatorTokens.id });
    await tx.insert(operatorTokens).values({ id, tokenHash: hash, createdAt: now });
    await auditControlTx(tx, { actor, action: "operator.token_issue", target: id, details: { revoked: earlier.map((row) => row.id) } });
    return earlier.length;
  });
  return { id, token: secret, revoked };
}

/** Revokes the live operator token, if there is one; the API then refuses every call until a new one is minted. */
export async function revokeOperatorToken(actor: Actor): Promise<number> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const revoked = await tx.update(operatorTokens).set({ revokedAt: Date.now() }).where(isNull(operatorTokens.revokedAt)).returning({ id: operatorTokens.id });
    if (revoked.length > 0) await auditControlTx(tx, { actor, action: "operator.token_revoke", target: revoked[0]!.id, details: {} });
    return revoked.length;
  });
}

/**
 * The operator principal for a presented token, or null: wrong shape or checksum (no database
 * touched), unknown, or revoked. Looked up by its hash's unique index, then the stored hash is
 * compared again in constant time, so what decides is never an early-exit string comparison.
 */
export async function resolveOperatorToken(token: string): Promise<OperatorPrincipal | null> {
  if (!isWellFormedSecret("operatorToken", token)) return null;
  const control = await getControlDb();
  const presented = hashSecret(token);
  const [row] = await control.db.select().from(operatorTokens).where(eq(operatorTokens.tokenHash, presented)).limit(1);
  if (!row || row.revokedAt !== null || !constantTimeEqual(row.tokenHash, presented)) return null;
  recordUse(row.lastUsedAt, Date.now(), () => control.db.update(operatorTokens).set({ lastUsedAt: Date.now() }).where(eq(operatorTokens.id, row.id)));
  return OPERATOR_TOKEN;
}
