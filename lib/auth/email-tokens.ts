import { and, eq, gt, isNull } from "drizzle-orm";
import { emailTokens } from "@/db/control/schema";
import { hashSecret, isWellFormedSecret, mintSecret, type SecretKind } from "../crypto/secrets";
import { randomId } from "../crypto/ids";
import type { ControlTx } from "../db/store";

/**
 * Single-use links sent by mail (a password reset, an email verification). The link carries a
 * secret (`enc_pr_…` / `enc_ev_…`, lib/crypto/secrets.ts); email_tokens keeps only its hash.
 *
 * - A token opens only its own purpose: a verification link is no reset link, and the purpose
 *   is part of both the secret's prefix and the row's lookup.
 * - A new token for a person and purpose supersedes the older ones (they are marked used in
 *   the transaction that stores it), so only the newest mail works.
 * - Consuming marks the row used in the same transaction as the change it allows, with a
 *   conditional update: two requests with one link, one wins.
 */
export type EmailTokenPurpose = "password_reset" | "email_verification";

export const EMAIL_TOKEN_LIFETIME_MS: Record<EmailTokenPurpose, number> = {
  password_reset: 30 * 60_000,
  email_verification: 24 * 3_600_000,
};

const KIND: Record<EmailTokenPurpose, SecretKind> = { password_reset: "passwordReset", email_verification: "emailVerification" };

/** Stores a new token for `userId` and `purpose` inside `tx` (superseding older ones) and returns the secret for the link. */
export async function issueEmailTokenTx(tx: ControlTx, userId: string, purpose: EmailTokenPurpose, now = Date.now()): Promise<string> {
  const { secret, hash } = mintSecret(KIND[purpose]);
  await tx
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)));
  await tx.insert(emailTokens).values({ id: randomId("etk"), userId, purpose, tokenHash: hash, createdAt: now, expiresAt: now + EMAIL_TOKEN_LIFETIME_MS[purpose] });
  return secret;
}

/** Whether `token` could be a token of `purpose` at all (shape and checksum): refuse before any work. */
export const isWellFormedEmailToken = (purpose: EmailTokenPurpose, token: string): boolean => isWellFormedSecret(KIND[purpose], token);

/**
 * Marks the token used inside `tx` and returns its person's id, or null for an unknown,
 * expired, used or superseded token, or one of another purpose.
 */
export async function consumeEmailToken(tx: ControlTx, purpose: EmailTokenPurpose, token: string, now = Date.now()): Promise<string | null> {
  if (!isWellFormedEmailToken(purpose, token)) return null;
  const [row] = await tx
    .update(emailTokens)
    .set({ usedAt: now })
    .where(and(eq(emailTokens.tokenHash, hashSecret(token)), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, now)))
    .returning({ userId: emailTokens.userId });
  return row?.userId ?? null;
}
