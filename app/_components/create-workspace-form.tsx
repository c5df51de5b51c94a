"use client";

import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { Field, FormError } from "./field";
import { useApiCall } from "./use-api-call";

export function CreateWorkspaceForm() {
  const router = useRouter();
  const { error, pending, ready, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const created = await call<{ workspace: { id: string } }>("POST", "/api/workspaces", { name: new FormData(formElement).get("name") });
    if (!created) return;
    formElement.reset();
    router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="New workspace">
      <FormError message={error?.message} />
      <Field label="Workspace name" name="name" required maxLength={80} errors={error?.fieldErrors?.name} />
      <button type="submit" disabled={!ready}>
        {pending ? "Creating…" : "Create workspace"}
      </button>
    </form>
  );
}
