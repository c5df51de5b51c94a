"use client";

import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { apiPath, formatTime } from "./format";
import { useApiCall } from "./use-api-call";

type MemberRowProps = {
  workspaceId: string;
  member: { userId: string; email: string; role: string; createdAt: number };
  /** Roles this admin may give; empty when the member's role is above theirs. */
  grantable: readonly string[];
  isSelf: boolean;
};

/** One member: change their role or remove them. The API's refusals (last owner, above your role) are shown as they come. */
export function MemberRow({ workspaceId, member, grantable, isSelf }: MemberRowProps) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  const url = apiPath(workspaceId, "members", member.userId);
  const editable = grantable.includes(member.role);
  const selectId = `role-${member.userId}`;

  async function changeRole(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const changed = await call("PATCH", url, { role: new FormData(formElement).get("role") });
    // Refused: show the role they still have, not the one picked.
    if (changed === undefined) formElement.reset();
    else router.refresh();
  }

  async function remove() {
    if ((await call("DELETE", url)) !== undefined) router.refresh();
  }

  return (
    <tr>
      <th scope="row">
        {member.email}
        {isSelf ? <span className="muted"> (you)</span> : null}
      </th>
      <td>
        {editable ? (
          <form method="post" onSubmit={changeRole} className="inline-form" aria-label={`Role of ${member.email}`}>
            <label htmlFor={selectId} className="visually-hidden">
              Role for {member.email}
            </label>
            <select id={selectId} name="role" defaultValue={member.role}>
              {grantable.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
            <button type="submit" className="secondary" disabled={!ready} aria-label={`Save role for ${member.email}`}>
              Save
            </button>
          </form>
        ) : (
          member.role
        )}
        <FormError message={error?.message} />
      </td>
      <td>{formatTime(member.createdAt)}</td>
      <td>
        {editable ? (
          <ConfirmButton
            label="Remove"
            accessibleName={`Remove ${member.email}`}
            question={isSelf ? "Remove yourself from this workspace?" : `Remove ${member.email} from this workspace?`}
            confirmLabel="Yes, remove"
            disabled={!ready}
            onConfirm={remove}
          />
        ) : null}
      </td>
    </tr>
  );
}
