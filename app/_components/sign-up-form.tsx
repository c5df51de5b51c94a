"use client";

import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { postJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

export function SignUpForm() {
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    const form = new FormData(event.currentTarget);
    const result = await postJson("/api/auth/sign-up", { email: form.get("email"), password: form.get("password") });
    setPending(false);
    if (result.ok) window.location.assign("/workspaces");
    else setError(result.error);
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Create account">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" autoComplete="username" required errors={error?.fieldErrors?.email} />
      <Field
        label="Password (at least 12 characters)"
        name="password"
        type="password"
        autoComplete="new-password"
        minLength={12}
        required
        errors={error?.fieldErrors?.password}
      />
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? "Creating account…" : "Create account"}
      </button>
    </form>
  );
}
