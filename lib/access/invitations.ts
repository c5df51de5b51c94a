import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { invitations, memberships, users, workspaces, type Role } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { assertRoomFor } from "../billing/limits";
import { randomId } from "../crypto/ids";
import { hashSecret, isWellFormedSecret, mintSecret } from "../crypto/secrets";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import type { WorkspaceAccess } from "./authorize";

/**
 * Invitations: the one way into a workspace for someone who is not yet in it, and (without a
 * workspace) the operator's pass through a sign-up that is not open.
 *
 * Token: `enc_inv_…` (lib/crypto/secrets.ts), shown once to whoever issued it (or mailed),
 * only its SHA-256 kept. Lives 7 days, used once, revocable. Accepting needs the signed-in
 * person's email to be the invited one (emails are stored trimmed and lower-cased by
 * emailSchema, so equality is case-insensitive), and that email verified when mail is on:
 * otherwise whoever registers an address first could claim what was meant for its owner.
 * Accepting marks the row and adds the membership in one BEGIN IMMEDIATE transaction, so of
 * two accepts racing exactly one wins. Both issuing and accepting meet the plan's member limit
 * (lib/billing/limits.ts) inside that transaction.
 */
export const INVITATION_DAYS = 7;
const INVITATION_MS = INVITATION_DAYS * 24 * 60 * 60 * 1000;

/** Roles an invitation may carry: ownership moves only by transfer (lib/lifecycle/transfer.ts). */
export const invitableRoles = ["viewer", "member", "admin"] as const;
export type InvitableRole = (typeof invitableRoles)[number];

export const invitationTokenSchema = z.string().trim().min(1).max(200);
export const acceptInvitationSchema = z.object({ token: invitationTokenSchema });

export const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  workspaceId: z.string().nullable(),
  role: z.enum(invitableRoles).nullable(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type Invitation = z.infer<typeof invitationSchema>;
export const invitationListSchema = z.object({ items: z.array(invitationSchema) });

const publicColumns = {
  id: invitations.id,
  email: invitations.email,
  workspaceId: invitations.workspaceId,
  role: invitations.role,
  createdAt: invitations.createdAt,
  expiresAt: invitations.expiresAt,
};

export type IssuedInvitation = { invitation: Invitation; token: string };

/** Writes a new invitation inside `tx`, retiring any pending one for the same email and workspace (a new link replaces the old). */
export async function issueInvitationTx(
  tx: ControlTx,
  input: { email: string; workspaceId: string | null; role: InvitableRole | null; invitedBy: string | null; actor: Actor },
  now = Date.now(),
): Promise<IssuedInvitation> {
  const sameTarget = input.workspaceId === null ? isNull(invitations.workspaceId) : eq(invitations.workspaceId, input.workspaceId);
  await tx
    .update(invitations)
    .set({ revokedAt: now })
    .where(and(eq(invitations.email, input.email), sameTarget, isNull(invitations.acceptedAt), isNull(invitations.revokedAt)));
  // After retiring the old link, in the same transaction: a new link for the same person takes no new place.
  if (input.workspaceId !== null) await assertRoomFor("members", input.workspaceId, { reader: tx, now });
  const { secret, hash } = mintSecret("invitation");
  const invitation: Invitation = { id: randomId("inv"), email: input.email, workspaceId: input.workspaceId, role: input.role, createdAt: now, expiresAt: now + INVITATION_MS };
  await tx.insert(invitations).values({ ...invitation, tokenHash: hash, invitedBy: input.invitedBy });
  await auditControlTx(tx, {
    actor: input.actor,
    action: "invitation.created",
    target: invitation.id,
    // The invited address is a person's: kept in the invitation row, not copied into the chain.
    details: { workspaceId: input.workspaceId, role: input.role },
  });
  return { invitation, token: secret };
}

/** An admin's invitation to their workspace. `role` is checked against the inviter's by the caller (lib/access/members.ts). */
export async function createInvitation(access: WorkspaceAccess<"members">, email: string, role: InvitableRole): Promise<IssuedInvitation> {
  const control = await getControlDb();
  const invitedBy = access.principal.kind === "user" ? access.principal.userId : null;
  return control.transaction((tx) => issueInvitationTx(tx, { email, workspaceId: access.workspaceId, role, invitedBy, actor: access.actor }));
}

/** Pending (not accepted, revoked or expired) invitations to this workspace, newest first. */
export async function listInvitations(access: WorkspaceAccess<"members">, now = Date.now()): Promise<Invitation[]> {
  const control = await getControlDb();
  const rows = await control.db
    .select(publicColumns)
    .from(invitations)
    .where(and(eq(invitations.workspaceId, access.workspaceId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, now)))
    .orderBy(desc(invitations.createdAt));
  return rows.map((row) => invitationSchema.parse(row));
}

/** Revokes a pending invitation of this workspace; another workspace's id, or one no longer pending, is a 404. */
export async function revokeInvitation(access: WorkspaceAccess<"members">, invitationId: string, now = Date.now()): Promise<void> {
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: invitations.id })
      .from(invitations)
      .where(and(eq(invitations.id, invitationId), eq(invitations.workspaceId, access.workspaceId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)));
    if (!row) throw notFound("No such pending invitation in this workspace.");
    await tx.update(invitations).set({ revokedAt: now }).where(eq(invitations.id, row.id));
    await auditControlTx(tx, { actor: access.actor, action: "invitation.revoked", target: row.id, details: { workspaceId: access.workspaceId } });
  });
}

type InvitationRow = typeof invitations.$inferSelect;

const unknownInvitation = () => new HttpError(404, "invitation_not_found", "This invitation link is not valid. Ask for a new one.");

/** The row a presented token names, or a 404 that says nothing more (a mistyped and a made-up token look alike). */
async function rowForToken(tx: Pick<ControlTx, "select">, token: string): Promise<InvitationRow> {
  if (!isWellFormedSecret("invitation", token)) throw unknownInvitation();
  const [row] = await tx.select().from(invitations).where(eq(invitations.tokenHash, hashSecret(token)));
  if (!row) throw unknownInvitation();
  return row;
}

/** Each way an invitation can no longer be used: one clear answer, naming nothing but the invitation's own state. */
function assertUsable(row: InvitationRow, now: number): void {
  if (row.acceptedAt !== null) throw new HttpError(409, "invitation_used", "This invitation has already been used.");
  if (row.revokedAt !== null) throw new HttpError(410, "invitation_revoked", "This invitation was withdrawn. Ask for a new one.");
  if (row.expiresAt <= now) throw new HttpError(410, "invitation_expired", "This invitation has expired. Ask for a new one.");
}

function assertForEmail(row: InvitationRow, email: string): void {
  // Says only that it is not theirs: the invited address is not shown to whoever holds the link.
  if (row.email !== email) throw new HttpError(403, "invitation_other_email", "This invitation is for another email address. Sign in with the address it was sent to.");
}

/** A usable invitation for `email`, checked but not used: what the sign-up policy asks (lib/auth/signup-policy.ts). */
export async function usableInvitationFor(token: string, email: string, now = Date.now()): Promise<Invitation> {
  const control = await getControlDb();
  const row = await rowForToken(control.db, token);
  assertForEmail(row, email);
  assertUsable(row, now);
  return invitationSchema.parse(row);
}

export type InvitationPreview = { workspaceName: string | null; role: Role | null; expiresAt: number; state: "pending" | "used" | "revoked" | "expired" };

/** What the /invite page shows to whoever holds the link: the workspace and role, not the invited address. */
export async function previewInvitation(token: string, now = Date.now()): Promise<InvitationPreview | null> {
  const control = await getControlDb();
  const row = await rowForToken(control.db, token).catch(() => null);
  if (!row) return null;
  const [workspace] = row.workspaceId ? await control.db.select({ name: workspaces.name, deletedAt: workspaces.deletedAt }).from(workspaces).where(eq(workspaces.id, row.workspaceId)) : [];
  if (row.workspaceId && (!workspace || workspace.deletedAt !== null)) return null;
  const state = row.acceptedAt !== null ? "used" : row.revokedAt !== null ? "revoked" : row.expiresAt <= now ? "expired" : "pending";
  return { workspaceName: workspace?.name ?? null, role: row.role, expiresAt: row.expiresAt, state };
}

export type AcceptOptions = { requireVerifiedEmail: boolean };

/**
 * The signed-in person accepts: their email must be the invited one (and verified when
 * `requireVerifiedEmail`), the invitation pending, the workspace still there. Joins with the
 * invited role and marks the invitation used, in one transaction.
 */
export async function acceptInvitation(userId: string, token: string, options: AcceptOptions, now = Date.now()): Promise<{ workspaceId: string | null; role: Role | null }> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const row = await rowForToken(tx, token);
    const [user] = await tx.select({ email: users.email, emailVerifiedAt: users.emailVerifiedAt, closedAt: users.closedAt }).from(users).where(eq(users.id, userId));
    if (!user || user.closedAt !== null) throw new HttpError(401, "unauthenticated", "Sign in to continue.");
    assertForEmail(row, user.email);
    assertUsable(row, now);
    if (options.requireVerifiedEmail && user.emailVerifiedAt === null) {
      throw new HttpError(403, "email_unverified", "Verify your email address first (the link we mailed you), then open the invitation again.");
    }
    if (row.workspaceId !== null) await joinTx(tx, row, userId, now);
    await tx.update(invitations).set({ acceptedAt: now, acceptedBy: userId }).where(and(eq(invitations.id, row.id), isNull(invitations.acceptedAt)));
    await auditControlTx(tx, { actor: { type: "user", id: userId }, action: "invitation.accepted", target: row.id, details: { workspaceId: row.workspaceId, role: row.role } });
    return { workspaceId: row.workspaceId, role: row.role };
  });
}

async function joinTx(tx: ControlTx, row: InvitationRow, userId: string, now: number): Promise<void> {
  const workspaceId = row.workspaceId!;
  const [workspace] = await tx.select({ deletedAt: workspaces.deletedAt }).from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!workspace || workspace.deletedAt !== null) throw unknownInvitation();
  const [existing] = await tx.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  if (existing) throw new HttpError(409, "already_member", `You are already a member of this workspace (${existing.role}).`);
  // The invitation's place was counted while it was pending; a downgrade since may have taken it away.
  await assertRoomFor("members", workspaceId, { reader: tx, now, joining: true });
  const role = row.role ?? "viewer";
  await tx.insert(memberships).values({ workspaceId, userId, role, createdAt: now });
  await auditControlTx(tx, { actor: { type: "user", id: userId }, action: "member.add", target: userId, details: { workspaceId, role, invitationId: row.id } });
}
