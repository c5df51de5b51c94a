import { eq, lt } from "drizzle-orm";
import { clerkEndedSessions } from "@/db/control/schema";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb, type ControlTx } from "../db/store";

/**
 * Clerk sessions Enclave refuses although their token still verifies: ended by sign-out here,
 * or by Clerk (session.revoked / ended / removed webhooks). A Clerk session token lives about a
 * minute, but an ended session's id is kept until `expiresAt` (at least a day, or the
 * session's own expiry when Clerk names one) so no token minted before the end outlives it;
 * the expired-sessions job drops rows past that.
 */
export const ENDED_SESSION_MIN_KEEP_MS = 24 * 60 * 60_000;

/** Records the session as ended (idempotent), in `tx` when given so it lands with the webhook's receipt. */
export async function recordEndedClerkSession(sessionId: string, options: { tx?: ControlTx; now?: number; keepUntil?: number } = {}): Promise<void> {
  const now = options.now ?? Date.now();
  const expiresAt = Math.max(now + ENDED_SESSION_MIN_KEEP_MS, options.keepUntil ?? 0);
  const write = async (tx: ControlTx) => {
    await tx
      .insert(clerkEndedSessions)
      .values({ sessionId, endedAt: now, expiresAt })
      .onConflictDoUpdate({ target: clerkEndedSessions.sessionId, set: { expiresAt } });
    // An open event stream signed in by this session stops before its next event.
    await bumpAccessEpoch(tx);
  };
  if (options.tx) return write(options.tx);
  const control = await getControlDb();
  await control.transaction(write);
}

export async function isEndedClerkSession(sessionId: string): Promise<boolean> {
  const control = await getControlDb();
  const [row] = await control.db.select({ id: clerkEndedSessions.sessionId }).from(clerkEndedSessions).where(eq(clerkEndedSessions.sessionId, sessionId)).limit(1);
  return row !== undefined;
}

/** Part of the expired-sessions job. */
export async function sweepEndedClerkSessions(now = Date.now()): Promise<{ clerkEndedSessions: number }> {
  const control = await getControlDb();
  const deleted = await control.db.delete(clerkEndedSessions).where(lt(clerkEndedSessions.expiresAt, now)).returning({ id: clerkEndedSessions.sessionId });
  return { clerkEndedSessions: deleted.length };
}
