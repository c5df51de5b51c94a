import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { memberships, users, workspaces, type Role } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { emailSchema } from "../auth/users";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb, type ControlDb, type ControlTx } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import type { WorkspaceAccess } from "./authorize";
import { deliverInvitation } from "./invitation-delivery";
import { createInvitation, invitationSchema } from "./invitations";
import { roleAtLeast, roleSchema } from "./scopes";

/**
 * Memberships. Rules, each enforced here and nowhere else:
 *  - nobody grants a role above their own, or changes/removes someone whose role is above theirs
 *    (an admin token counts as an admin);
 *  - the last owner can be neither removed nor demoted, so a workspace always has an owner;
 *  - nobody is added directly: adding by email issues an invitation (lib/access/invitations.ts)
 *    that the person accepts signed in with that email. The answer is the same whether or not an
 *    account uses the address, so the form cannot be used to learn who has one. Only an address
 *    already in this workspace's member list (which the inviter can read anyway) is a 409.
 */
export const addMemberSchema = z.object({ email: emailSchema, role: roleSchema });
export const changeRoleSchema = z.object({ role: roleSchema });

export type Member = { userId: string; email: string; role: Role; createdAt: number };

const actingRole = (access: WorkspaceAccess): Role => access.role ?? "admin";

function assertMayGrant(access: WorkspaceAccess, role: Role): void {
  if (!roleAtLeast(actingRole(access), role)) {
    throw new HttpError(403, "role_exceeds_yours", `You cannot give someone the ${role} role: it is above your own.`);
  }
}

const selectMembers = (control: ControlDb) =>
  control.db
    .select({ userId: memberships.userId, email: users.email, role: memberships.role, createdAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId));

export async function listMembers(access: WorkspaceAccess<"members">): Promise<Member[]> {
  return selectMembers(await getControlDb())
    .where(eq(memberships.workspaceId, access.workspaceId))
    .orderBy(asc(users.email));
}

/** What adding a member answers, the same for an address with or without an account. */
export const memberInvitedSchema = z.object({
  invitation: invitationSchema,
  mailed: z.boolean().describe("true when the link went to the address by mail"),
  link: z.string().nullable().describe("the single-use link, shown only this once, when it was not mailed: pass it on"),
});
export type MemberInvited = z.infer<typeof memberInvitedSchema>;

export async function addMember(access: WorkspaceAccess<"members">, input: z.infer<typeof addMemberSchema>): Promise<MemberInvited> {
  assertMayGrant(access, input.role);
  if (input.role === "owner") throw new HttpError(400, "owner_not_invitable", "Invite them as admin, then transfer ownership to them.");
  const control = await getControlDb();
  const [existing] = await control.db
    .select({ role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, access.workspaceId), eq(users.email, input.email), isNull(users.closedAt)));
  if (existing) throw new HttpError(409, "already_member", `They are already a member (${existing.role}).`);
  const { invitation, token } = await createInvitation(access, input.email, input.role);
  const [workspace] = await control.db.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, access.workspaceId));
  const delivery = await deliverInvitation(input.email, token, { workspaceName: workspace?.name ?? null, role: input.role });
  return { invitation, ...delivery };
}

async function targetMembership(tx: ControlTx, access: WorkspaceAccess, userId: string): Promise<Role> {
  const [row] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, access.workspaceId), eq(memberships.userId, userId)));
  if (!row) throw notFound("No such member in this workspace.");
  if (!roleAtLeast(actingRole(access), row.role)) {
    throw new HttpError(403, "role_exceeds_yours", `You cannot change a member whose role (${row.role}) is above your own.`);
  }
  return row.role;
}

async function assertNotLastOwner(tx: ControlTx, workspaceId: string, currentRole: Role): Promise<void> {
  if (currentRole !== "owner") return;
  const owners = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, "owner")));
  if (owners.length <= 1) throw new HttpError(409, "last_owner", "A workspace needs an owner: make someone else owner first.");
}

export async function changeMemberRole(access: WorkspaceAccess<"members">, userId: string, role: Role): Promise<Member> {
  assertMayGrant(access, role);
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const current = await targetMembership(tx, access, userId);
    if (current === role) return;
    if (role !== "owner") await assertNotLastOwner(tx, access.workspaceId, current);
    await tx.update(memberships).set({ role }).where(and(eq(memberships.workspaceId, access.workspaceId), eq(memberships.userId, userId)));
    await bumpAccessEpoch(tx);
    await auditControlTx(tx, { actor: access.actor, action: "member.role_change", target: userId, details: { workspaceId: access.workspaceId, from: current, to: role } });
  });
  const [member] = await selectMembers(control).where(and(eq(memberships.workspaceId, access.workspaceId), eq(memberships.userId, userId)));
  if (!member) throw notFound("No such member in this workspace.");
  return member;
}

export async function removeMember(access: WorkspaceAccess<"members">, userId: string): Promise<void> {
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const current = await targetMembership(tx, access, userId);
    await assertNotLastOwner(tx, access.workspaceId, current);
    await tx.delete(memberships).where(and(eq(memberships.workspaceId, access.workspaceId), eq(memberships.userId, userId)));
    await bumpAccessEpoch(tx);
    await auditControlTx(tx, { actor: access.actor, action: "member.remove", target: userId, details: { workspaceId: access.workspaceId, role: current } });
  });
}
