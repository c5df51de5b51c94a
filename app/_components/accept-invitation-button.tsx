"use client";

import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/** Accepts the invitation for the signed-in person; the server checks the email, its verification and the invitation again. */
export function AcceptInvitationButton({ token }: { token: string }) {
  const { error, pending, ready, call } = useApiCall();
  async function accept() {
    const joined = await call<{ workspaceId: string | null }>("POST", "/api/invitations/accept", { token });
    if (joined) window.location.assign(joined.workspaceId ? `/w/${encodeURIComponent(joined.workspaceId)}` : "/workspaces");
  }
  return (
    <>
      <FormError message={error?.message} />
      <button type="button" onClick={accept} disabled={!ready}>
        {pending ? "Joining…" : "Accept invitation"}
      </button>
    </>
  );
}
