import { AddMemberForm } from "@/app/_components/add-member-form";
import { InvitationRow } from "@/app/_components/invitation-row";
import { MemberRow } from "@/app/_components/member-row";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { listInvitations } from "@/lib/access/invitations";
import { listMembers } from "@/lib/access/members";
import { roleAtLeast, roles } from "@/lib/access/scopes";

export const metadata = { title: "Members · Enclave" };

export default async function MembersPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "members");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const members = await listMembers(gate.access);
  const pending = await listInvitations(gate.access);
  const myRole = gate.access.role ?? "admin";
  // Nobody grants a role above their own (the API enforces it; this only trims the choices).
  const grantable = roles.filter((role) => roleAtLeast(myRole, role));
  return (
    <>
      <h1>Members</h1>
      <table aria-label="Members">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Added</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <MemberRow key={member.userId} workspaceId={workspaceId} member={member} grantable={grantable} isSelf={member.userId === gate.user.id} />
          ))}
        </tbody>
      </table>
      {pending.length > 0 && (
        <>
          <h2>Pending invitations</h2>
          <table aria-label="Pending invitations">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {pending.map((invitation) => (
                <InvitationRow key={invitation.id} workspaceId={workspaceId} invitation={invitation} />
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Add a member</h2>
      <p className="muted">
        Adding an email invites it: they join when they open the link signed in with that email (signing up first if they have no account). Owners are made by
        transferring ownership.
      </p>
      <AddMemberForm workspaceId={workspaceId} roles={grantable.filter((role) => role !== "owner")} />
    </>
  );
}
