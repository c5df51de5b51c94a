import type { Invitation } from "@/lib/access/invitations";
import { formatTime } from "./format";
import { RevokeButton } from "./revoke-button";

/** A pending invitation on the members page: who, which role, until when, and withdraw it. */
export function InvitationRow({ workspaceId, invitation }: { workspaceId: string; invitation: Invitation }) {
  return (
    <tr>
      <td>{invitation.email}</td>
      <td>{invitation.role}</td>
      <td>{formatTime(invitation.expiresAt)}</td>
      <td>
        <RevokeButton
          url={`/api/v1/workspaces/${encodeURIComponent(workspaceId)}/invitations/${encodeURIComponent(invitation.id)}`}
          name={`the invitation for ${invitation.email}`}
          question={`Withdraw the invitation for ${invitation.email}? Its link stops working.`}
        />
      </td>
    </tr>
  );
}
