import { and, eq, gt, isNotNull, isNull, lte, ne } from "drizzle-orm";
import { accessRequests, backupCodes, emailTokens, invitations, knownDevices, memberships, oauthCodes, oauthGrants, sessions, users, workspaces } from "@/db/control/schema";
import { roles } from "../access/scopes";
import { auditControlTx, auditWorkspace, type Actor } from "../audit/audit";
import { dropWorkspaceFile, getControlDb, type ControlTx } from "../db/store";
import { logger } from "../log/logger";
import { ownedWorkspaces } from "./owners";
import { markWorkspaceDeletedTx } from "./workspace-deletion";

/**
 * The purges, for the jobs runner (which registers them; nothing here schedules itself).
 * Each is idempotent and resumes after a crash at any point, because each step leaves a state
 * the next run recognises and finishes:
 *
 *   workspace  1. claim: still deleted and due? (a run ahead of time — `--now`, tests — first
 *                 moves purgeAt to the present, so no restore can race the files going)
 *              2. the file: handle closed, workspace.db, -wal, -shm and the folder removed
 *              3. the row (memberships, tokens, grants, codes cascade), audited workspace.purge
 *              A crash after 2 leaves a due row without a file: authorize() already answers
 *              404 for it, and the next run skips the missing file and deletes the row.
 *   account    1. claim (as above; its scheduled workspaces become due with it)
 *              2. each workspace deleted with the account, as above
 *              3. one transaction: memberships, sessions, backup codes, grants and codes go,
 *                 the TOTP secrets are nulled and the password hash emptied (it never
 *                 verifies: lib/auth/password.ts), closedAt set; audited account.purged.
 *              What stays is the tombstone: id, email, created, asked-to-close and closed.
 *
 * Neither touches `subscriptions` or `payments`: payment history is kept after the purge
 * (accounting needs it), linked by id to the tombstone and the erased workspace's id.
 */
const PURGE_ACTOR: Actor = { type: "system", id: "purge" };

/** Purges one deleted workspace that is due at `now`; false when there is nothing (left) to purge. */
export async function purgeWorkspace(workspaceId: string, now = Date.now(), actor: Actor = PURGE_ACTOR): Promise<boolean> {
  const control = await getControlDb();
  const due = await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ purgeAt: workspaces.purgeAt })
      .from(workspaces)
      .where(and(eq(workspaces.id, workspaceId), isNotNull(workspaces.deletedAt), lte(workspaces.purgeAt, now)));
    if (!row) return false;
    const present = Date.now();
    if ((row.purgeAt ?? 0) > present) await tx.update(workspaces).set({ purgeAt: present }).where(eq(workspaces.id, workspaceId));
    return true;
  });
  if (!due) return false;
  await dropWorkspaceFile(workspaceId);
  await control.transaction(async (tx) => {
    const [row] = await tx
      .delete(workspaces)
      .where(and(eq(workspaces.id, workspaceId), isNotNull(workspaces.deletedAt)))
      .returning({ name: workspaces.name, deletedAt: workspaces.deletedAt, deletedBy: workspaces.deletedBy, deletedWith: workspaces.deletedWith });
    if (row) await auditControlTx(tx, { actor, action: "workspace.purge", target: workspaceId, details: row });
  });
  return true;
}

/** Runs `purge` on each id, past failures (one bad file must not hold up the rest), then throws if any failed. */
async function purgeEach(kind: string, ids: readonly string[], purge: (id: string) => Promise<boolean>): Promise<number> {
  let purged = 0;
  const failures: unknown[] = [];
  for (const id of ids) {
    try {
      if (await purge(id)) purged += 1;
    } catch (error) {
      failures.push(error);
      logger.error({ err: error, [kind]: id }, `purging a ${kind} failed; the next run tries again`);
    }
  }
  if (failures.length > 0) {
    throw new Error(`purged ${purged} of ${ids.length} ${kind}s; ${failures.length} failed (first: ${String(failures[0])})`, { cause: failures[0] });
  }
  return purged;
}

/** The jobs runner's workspace purge: every deleted workspace whose purgeAt has come. */
export async function purgeDeletedWorkspaces(now = Date.now()): Promise<Record<string, number>> {
  const control = await getControlDb();
  const due = await control.db.select({ id: workspaces.id }).from(workspaces).where(and(isNotNull(workspaces.deletedAt), lte(workspaces.purgeAt, now)));
  const purged = await purgeEach("workspace", due.map((row) => row.id), (id) => purgeWorkspace(id, now));
  return { due: due.length, purged };
}

const closingAndDue = (now: number) => and(isNotNull(users.closureRequestedAt), isNull(users.closedAt), lte(users.purgeAt, now));

/**
 * A workspace the purged person still owns alone — made owner during the hold — keeps an owner:
 * its most senior other member (highest role, then longest there) takes it over. One nobody
 * else uses goes with the account.
 */
async function handOverOrDelete(tx: ControlTx, userId: string, actor: Actor, present: number): Promise<{ handedOver: { workspaceId: string; to: string }[] }> {
  const handedOver: { workspaceId: string; to: string }[] = [];
  for (const workspace of (await ownedWorkspaces(tx, userId)).filter((owned) => owned.owners === 1)) {
    const others = await tx
      .select({ userId: memberships.userId, role: memberships.role, createdAt: memberships.createdAt })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspace.id), ne(memberships.userId, userId)));
    const [successor] = others.sort((a, b) => roles.indexOf(b.role) - roles.indexOf(a.role) || a.createdAt - b.createdAt);
    if (!successor) {
      await markWorkspaceDeletedTx(tx, workspace.id, { actor, deletedBy: userId, deletedWith: "account_closure", now: present, purgeAt: present });
      continue;
    }
    await tx.update(memberships).set({ role: "owner" }).where(and(eq(memberships.workspaceId, workspace.id), eq(memberships.userId, successor.userId)));
    await auditControlTx(tx, { actor, action: "workspace.transfer", target: workspace.id, details: { from: userId, to: successor.userId, reason: "owner_account_purged" } });
    handedOver.push({ workspaceId: workspace.id, to: successor.userId });
  }
  return { handedOver };
}

/** Erases one closing account whose purgeAt has come, keeping its tombstone; false when there is nothing (left) to do. */
export async function purgeAccount(userId: string, now = Date.now(), actor: Actor = PURGE_ACTOR): Promise<boolean> {
  const control = await getControlDb();
  const claimed = await control.transaction(async (tx) => {
    const [user] = await tx.select({ purgeAt: users.purgeAt }).from(users).where(and(eq(users.id, userId), closingAndDue(now)));
    if (!user) return false;
    const present = Date.now();
    if ((user.purgeAt ?? 0) > present) {
      await tx.update(users).set({ purgeAt: present }).where(eq(users.id, userId));
      await tx
        .update(workspaces)
        .set({ purgeAt: present })
        .where(and(eq(workspaces.deletedBy, userId), eq(workspaces.deletedWith, "account_closure"), isNotNull(workspaces.deletedAt), gt(workspaces.purgeAt, present)));
    }
    return true;
  });
  if (!claimed) return false;

  const scheduled = await control.db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(and(eq(workspaces.deletedBy, userId), eq(workspaces.deletedWith, "account_closure"), isNotNull(workspaces.deletedAt)));
  const workspacesPurged = await purgeEach("workspace", scheduled.map((row) => row.id), (id) => purgeWorkspace(id, Math.max(now, Date.now()), actor));

  const present = Date.now();
  const outcome = await control.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, email: users.email }).from(users).where(and(eq(users.id, userId), closingAndDue(present)));
    if (!user) return null;
    const { handedOver } = await handOverOrDelete(tx, userId, actor, present);
    const counted = async (rows: Promise<unknown[]>) => (await rows).length;
    const details = {
      workspacesPurged,
      handedOver,
      memberships: await counted(tx.delete(memberships).where(eq(memberships.userId, userId)).returning({ id: memberships.workspaceId })),
      sessions: await counted(tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id })),
      backupCodes: await counted(tx.delete(backupCodes).where(eq(backupCodes.userId, userId)).returning({ id: backupCodes.id })),
      grants: await counted(tx.delete(oauthGrants).where(eq(oauthGrants.userId, userId)).returning({ id: oauthGrants.id })),
      codes: await counted(tx.delete(oauthCodes).where(eq(oauthCodes.userId, userId)).returning({ id: oauthCodes.codeHash })),
      // Mailed links and known devices: neither may outlive the account into whoever signs up with the email next (same row, same id).
      emailTokens: await counted(tx.delete(emailTokens).where(eq(emailTokens.userId, userId)).returning({ id: emailTokens.id })),
      knownDevices: await counted(tx.delete(knownDevices).where(eq(knownDevices.userId, userId)).returning({ id: knownDevices.deviceHash })),
      // Invitations and access requests for the address are about the person and go; ones they sent are workspace history and stay, pointing at the tombstone.
      invitations: await counted(tx.delete(invitations).where(eq(invitations.email, user.email)).returning({ id: invitations.id })),
      accessRequests: await counted(tx.delete(accessRequests).where(eq(accessRequests.email, user.email)).returning({ id: accessRequests.id })),
    };
    // The tombstone keeps email, created and closed; the Clerk link goes, so a returning Clerk user starts afresh.
    await tx
      .update(users)
      .set({ passwordHash: "", totpSecret: null, totpPendingSecret: null, totpLastStep: null, clerkUserId: null, emailVerifiedAt: null, closedAt: present })
      .where(eq(users.id, userId));
    await auditControlTx(tx, { actor, action: "account.purged", target: userId, details });
    return details;
  });
  for (const { workspaceId, to } of outcome?.handedOver ?? []) {
    await auditWorkspace(workspaceId, { actor, action: "workspace.transfer", target: workspaceId, details: { from: userId, to, reason: "owner_account_purged" } });
  }
  return outcome !== null;
}

/** The jobs runner's account purge: every closing account whose hold has run out. */
export async function purgeClosedAccounts(now = Date.now()): Promise<Record<string, number>> {
  const control = await getControlDb();
  const due = await control.db.select({ id: users.id }).from(users).where(closingAndDue(now));
  const purged = await purgeEach("account", due.map((row) => row.id), (id) => purgeAccount(id, now));
  return { due: due.length, purged };
}
