"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError, SelectField } from "./field";
import { apiPath } from "./format";
import { useApiCall } from "./use-api-call";

export function AddMemberForm({ workspaceId, roles }: { workspaceId: string; roles: readonly string[] }) {
  const router = useRouter();
  const { error, pending, ready, call } = useApiCall();
  const [notice, setNotice] = useState<string>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const added = await call<{ email: string; role: string }>("POST", apiPath(workspaceId, "members"), { email: form.get("email"), role: form.get("role") });
    if (!added) {
      setNotice(undefined);
      return;
    }
    setNotice(`Added ${added.email} as ${added.role}.`);
    formElement.reset();
    router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Add a member">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" required autoComplete="off" errors={error?.fieldErrors?.email} />
      <SelectField label="Role" name="role" options={roles} defaultValue={roles.includes("member") ? "member" : roles[0]} errors={error?.fieldErrors?.role} />
      <button type="submit" disabled={!ready}>
        {pending ? "Adding…" : "Add member"}
      </button>
      <p role="status">{notice}</p>
    </form>
  );
}
