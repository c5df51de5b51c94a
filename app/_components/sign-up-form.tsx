"use client";

import type { FormEvent } from "react";
import { Field, FormError } from "./field";
import { useApiCall } from "./use-api-call";

export function SignUpForm() {
  const { error, pending, ready, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const signedUp = await call("POST", "/api/auth/sign-up", { email: form.get("email"), password: form.get("password") });
    if (signedUp !== undefined) window.location.assign("/workspaces");
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
      <button type="submit" disabled={!ready}>
        {pending ? "Creating account…" : "Create account"}
      </button>
    </form>
  );
}
