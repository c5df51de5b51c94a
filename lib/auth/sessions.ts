import { storageFault, StorageFullError } from "../db/storage-health";
import { and, eq, gt, lt, or } from "drizzle-orm";
import { sessions, users, type User } from "@/db/control/schema";
import { getConfig } from "../config";
import { hashSecret, isWellFormedSecret, mintSecret } from "../crypto/secrets";
import { randomId } from "../crypto/ids";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb } from "../db/store";

/**
 * Portal sessions. The cookie carries a session secret (`enc_ss_…`, lib/crypto/secrets.ts);
 * the database keeps only its SHA-256, so a leaked control.db cannot be replayed as cookies. A session ends at the first
 * of: sign-out (row deleted), idle timeout, absolute lifetime. The id is replaced at sign-in
 * (a new row) and every ENCLAVE_SESSION_ROTATE_MINUTES while in use; the replaced id stays
 * valid for ROTATION_GRACE_MS so requests already in flight with it do not sign the user out.
 */
export const ROTATION_GRACE_MS = 60_000;
// last_seen_at is written at most this often: a page view should not be a write every time.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * A signed-in person, whichever provider: `sessionId` is the local session's row id, or the
 * Clerk session's `sid`. `firstFactorAt` only in Clerk mode: when Clerk last checked their
 * first factor (lib/auth/clerk.ts), which is what re-authentication means there.
 */
/** Whether a session row still signs anyone in: within its lifetime and not idle past the timeout (the one rule; the sweep deletes the rest). */
export function isLiveSession(row: Pick<typeof sessions.$inferSelect, "expiresAt" | "lastSeenAt">, now = Date.now()): boolean {
  return row.expiresAt > now && row.lastSeenAt > limits(now).idleCutoff;
}

export type SignedIn = { user: User; sessionId: string; firstFactorAt?: number };

function limits(now: number) {
  const config = getConfig();
  return {
    idleCutoff: now - config.ENCLAVE_SESSION_IDLE_MINUTES * 60_000,
    rotateBefore: now - config.ENCLAVE_SESSION_ROTATE_MINUTES * 60_000,
    maxAgeMs: config.ENCLAVE_SESSION_MAX_HOURS * 3_600_000,
  };
}

export async function createSession(
  userId: string,
  meta: { ip?: string; userAgent?: string } = {},
): Promise<{ token: string; expiresAt: number }> {
  const control = await getControlDb();
  const now = Date.now();
  const { secret: token, hash } = mintSecret("session");
  const expiresAt = now + limits(now).maxAgeMs;
  await control.db.insert(sessions).values({
    id: randomId("ses"),
    userId,
    tokenHash: hash,
    rotatedAt: now,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    ip: meta.ip ?? null,
    userAgent: meta.userAgent?.slice(0, 512) ?? null,
  });
  return { token, expiresAt };
}

/** The signed-in user for a cookie value, or null for an unknown, ended or expired session. */
export async function resolveSession(token: string | undefined): Promise<SignedIn | null> {
  // A cookie of any other shape (or one from before session secrets had a prefix) opens nothing.
  if (!token || !isWellFormedSecret("session", token)) return null;
  const control = await getControlDb();
  const now = Date.now();
  const hash = hashSecret(token);
  const [row] = await control.db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      or(
        eq(sessions.tokenHash, hash),
        and(eq(sessions.previousTokenHash, hash), gt(sessions.rotatedAt, now - ROTATION_GRACE_MS)),
      ),
    )
    .limit(1);
  if (!row) return null;
  if (!isLiveSession(row.session, now)) {
    await control.db.delete(sessions).where(eq(sessions.id, row.session.id));
    return null;
  }
  if (now - row.session.lastSeenAt > TOUCH_INTERVAL_MS) {
    // On a full control.db the touch waits for the next request: reading must not need a write to succeed.
    await control.db
      .update(sessions)
      .set({ lastSeenAt: now })
      .where(eq(sessions.id, row.session.id))
      .catch((error: unknown) => {
        if (!(storageFault(error) instanceof StorageFullError)) throw error;
      });
  }
  return { user: row.user, sessionId: row.session.id };
}

/**
 * Replaces the session's id when it is due, returning the new cookie value (or null when the
 * current one is still fresh, or the session is gone). Only the current id can rotate, so a
 * request racing on the previous id cannot fork the session.
 */
export async function rotateSessionIfDue(token: string): Promise<{ token: string; expiresAt: number } | null> {
  const control = await getControlDb();
  if (!isWellFormedSecret("session", token)) return null;
  const now = Date.now();
  const hash = hashSecret(token);
  // Runs on every request: a read first, so the common not-yet-due case writes nothing.
  const [current] = await control.db
    .select({ rotatedAt: sessions.rotatedAt })
    .from(sessions)
    .where(eq(sessions.tokenHash, hash))
    .limit(1);
  if (!current || current.rotatedAt >= limits(now).rotateBefore) return null;
  const next = mintSecret("session");
  const rotated = await control.db
    .update(sessions)
    .set({ tokenHash: next.hash, previousTokenHash: hash, rotatedAt: now, lastSeenAt: now })
    .where(
      and(
        eq(sessions.tokenHash, hash),
        lt(sessions.rotatedAt, limits(now).rotateBefore),
        gt(sessions.expiresAt, now),
        gt(sessions.lastSeenAt, limits(now).idleCutoff),
      ),
    )
    .returning({ expiresAt: sessions.expiresAt });
  const [row] = rotated;
  return row ? { token: next.secret, expiresAt: row.expiresAt } : null;
}

/** Ends the session this cookie value belongs to (current or just-rotated id). */
export async function deleteSession(token: string): Promise<string | null> {
  const control = await getControlDb();
  const hash = hashSecret(token);
  return control.transaction(async (tx) => {
    const [row] = await tx
      .delete(sessions)
      .where(or(eq(sessions.tokenHash, hash), eq(sessions.previousTokenHash, hash)))
      .returning({ userId: sessions.userId });
    // A portal tab following events with this cookie stops before the next one.
    if (row) await bumpAccessEpoch(tx);
    return row?.userId ?? null;
  });
}

/** Deletes sessions past their lifetime or idle timeout (resolveSession already refuses them): the expired-sessions job. */
export async function sweepExpiredSessions(now = Date.now()): Promise<{ sessions: number }> {
  const control = await getControlDb();
  const deleted = await control.db
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, limits(now).idleCutoff)))
    .returning({ id: sessions.id });
  return { sessions: deleted.length };
}
