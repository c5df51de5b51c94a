import { and, desc, eq, ne } from "drizzle-orm";
import { sessions } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { mintSecret } from "../crypto/secrets";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import { isLiveSession, type SignedIn } from "./sessions";
import { describeUserAgent } from "./user-agent";

/**
 * A person's own sessions, as the account page shows them: list, end one, end every other.
 * A session id belongs to one person: any id that is not one of the caller's — another
 * person's, an ended one, a made-up one — is the same 404, so the answer says nothing about
 * sessions that are not theirs. Ending sessions bumps the access epoch so live event streams
 * opened with them stop (lib/db/access-epoch.ts).
 */
export type AccountSession = {
  id: string;
  device: string;
  ip: string | null;
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
};

export async function listAccountSessions(signedIn: SignedIn, now = Date.now()): Promise<AccountSession[]> {
  const control = await getControlDb();
  const rows = await control.db.select().from(sessions).where(eq(sessions.userId, signedIn.user.id)).orderBy(desc(sessions.lastSeenAt));
  // Expired and idle rows wait for the sweep; they sign nobody in, so they are not listed.
  return rows
    .filter((row) => isLiveSession(row, now))
    .map((row) => ({
      id: row.id,
      device: describeUserAgent(row.userAgent).label,
      ip: row.ip,
      createdAt: row.createdAt,
      lastSeenAt: row.lastSeenAt,
      current: row.id === signedIn.sessionId,
    }));
}

/** Deletes the person's sessions inside `tx`, all of them or all but `keep`; returns how many ended. */
export async function endSessionsTx(tx: ControlTx, userId: string, keep?: string): Promise<number> {
  const where = keep === undefined ? eq(sessions.userId, userId) : and(eq(sessions.userId, userId), ne(sessions.id, keep));
  const ended = await tx.delete(sessions).where(where).returning({ id: sessions.id });
  if (ended.length > 0) await bumpAccessEpoch(tx);
  return ended.length;
}

/**
 * Gives session `sessionId` a new id inside `tx`, with no grace for the old one: after a
 * password change a cookie copied before it opens nothing. Returns the new cookie value.
 */
export async function replaceSessionIdTx(tx: ControlTx, sessionId: string, now = Date.now()): Promise<{ token: string; expiresAt: number } | null> {
  const next = mintSecret("session");
  const [row] = await tx
    .update(sessions)
    .set({ tokenHash: next.hash, previousTokenHash: null, rotatedAt: now, lastSeenAt: now })
    .where(eq(sessions.id, sessionId))
    .returning({ expiresAt: sessions.expiresAt });
  return row ? { token: next.secret, expiresAt: row.expiresAt } : null;
}

const actorOf = (signedIn: SignedIn): Actor => ({ type: "user", id: signedIn.user.id });

/** Ends one of the caller's sessions (404 for any other id); says whether it was the current one. */
export async function endAccountSession(signedIn: SignedIn, sessionId: string): Promise<{ current: boolean }> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const [row] = await tx
      .delete(sessions)
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, signedIn.user.id)))
      .returning({ id: sessions.id });
    if (!row) throw new HttpError(404, "not_found", "No such session.");
    await bumpAccessEpoch(tx);
    const current = row.id === signedIn.sessionId;
    await auditControlTx(tx, { actor: actorOf(signedIn), action: "session.revoke", target: signedIn.user.id, details: { session: row.id, current } });
    return { current };
  });
}

/** "Sign out everywhere else": every session of the caller but this one. */
export async function endOtherAccountSessions(signedIn: SignedIn): Promise<{ ended: number }> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const ended = await endSessionsTx(tx, signedIn.user.id, signedIn.sessionId);
    await auditControlTx(tx, { actor: actorOf(signedIn), action: "session.revoke_all", target: signedIn.user.id, details: { ended, kept: signedIn.sessionId } });
    return { ended };
  });
}
