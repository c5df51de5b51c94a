"use client";

import type { FormEvent } from "react";
import { Field, FormError } from "./field";
import { useApiCall } from "./use-api-call";

/** Delete the workspace by typing its name. It leaves the portal at once; its owner can restore it from Workspaces until it is purged. */
export function DeleteWorkspaceForm({ workspaceId, name, holdDays }: { workspaceId: string; name: string; holdDays: number }) {
  const { error, pending, ready, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const confirmName = new FormData(event.currentTarget).get("confirmName");
    if ((await call("DELETE", `/api/workspaces/${encodeURIComponent(workspaceId)}`, { confirmName })) !== undefined) window.location.assign("/workspaces");
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Delete workspace">
      <p>
        Everyone loses access at once, and every team token and AI client on it is revoked for good. You can restore it from Workspaces for {holdDays} days; then it is
        erased.
      </p>
      <FormError message={error?.message} />
      <Field label={`Type “${name}” to confirm`} name="confirmName" autoComplete="off" required errors={error?.fieldErrors?.confirmName} />
      <button type="submit" className="danger" disabled={!ready}>
        {pending ? "Deleting…" : "Delete workspace"}
      </button>
    </form>
  );
}
