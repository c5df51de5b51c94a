"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError, SelectField } from "./field";
import { apiPath } from "./format";
import { useApiCall } from "./use-api-call";

type Invited = { invitation: { email: string; role: string }; mailed: boolean; link: string | null };

/**
 * Adding a member invites the email: the answer is the same whether or not it has an account.
 * The single-use link is mailed when mail is on; otherwise it is shown here once, to pass on.
 */
export function AddMemberForm({ workspaceId, roles }: { workspaceId: string; roles: readonly string[] }) {
  const router = useRouter();
  const { error, pending, ready, call } = useApiCall();
  const [invited, setInvited] = useState<Invited>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const answer = await call<Invited>("POST", apiPath(workspaceId, "members"), { email: form.get("email"), role: form.get("role") });
    setInvited(answer);
    if (!answer) return;
    formElement.reset();
    router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Add a member">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" required autoComplete="off" errors={error?.fieldErrors?.email} />
      <SelectField label="Role" name="role" options={roles} defaultValue={roles.includes("member") ? "member" : roles[0]} errors={error?.fieldErrors?.role} />
      <button type="submit" disabled={!ready}>
        {pending ? "Inviting…" : "Add member"}
      </button>
      <div role="status">
        {invited &&
          (invited.mailed ? (
            <p>
              Invited {invited.invitation.email} as {invited.invitation.role}: the link was mailed to them. They join once they accept it.
            </p>
          ) : (
            <>
              <p>
                Invited {invited.invitation.email} as {invited.invitation.role}. Send them this link (it works once, for 7 days, only for that email; it is not
                shown again):
              </p>
              <label htmlFor="invitation-link">Invitation link</label>
              <input id="invitation-link" readOnly value={invited.link ?? ""} spellCheck={false} autoComplete="off" onFocus={(event) => event.currentTarget.select()} />
            </>
          ))}
      </div>
    </form>
  );
}
