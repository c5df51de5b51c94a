"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { postJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

export function CreateWorkspaceForm() {
  const router = useRouter();
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    setPending(true);
    const result = await postJson<{ workspace: { id: string } }>("/api/workspaces", {
      name: new FormData(formElement).get("name"),
    });
    setPending(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(undefined);
    formElement.reset();
    router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="New workspace">
      <FormError message={error?.message} />
      <Field label="Workspace name" name="name" required maxLength={80} errors={error?.fieldErrors?.name} />
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? "Creating…" : "Create workspace"}
      </button>
    </form>
  );
}
