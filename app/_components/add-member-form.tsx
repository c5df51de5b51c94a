"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError, SelectField } from "./field";
import { apiPath } from "./format";
import { sendJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

export function AddMemberForm({ workspaceId, roles }: { workspaceId: string; roles: readonly string[] }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setPending(true);
    const result = await sendJson<{ email: string; role: string }>("POST", apiPath(workspaceId, "members"), { email: form.get("email"), role: form.get("role") });
    setPending(false);
    if (!result.ok) {
      setNotice(undefined);
      setError(result.error);
      return;
    }
    setError(undefined);
    setNotice(`Added ${result.data.email} as ${result.data.role}.`);
    formElement.reset();
    router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Add a member">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" required autoComplete="off" errors={error?.fieldErrors?.email} />
      <SelectField label="Role" name="role" options={roles} defaultValue={roles.includes("member") ? "member" : roles[0]} errors={error?.fieldErrors?.role} />
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? "Adding…" : "Add member"}
      </button>
      <p role="status">{notice}</p>
    </form>
  );
}
