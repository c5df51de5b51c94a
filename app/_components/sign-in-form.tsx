"use client";

import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { postJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

/** `returnTo` is already checked to be a path on this site (see safeReturnPath). */
export function SignInForm({ returnTo }: { returnTo: string }) {
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [needsCode, setNeedsCode] = useState(false);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    const form = new FormData(event.currentTarget);
    const result = await postJson("/api/auth/sign-in", {
      email: form.get("email"),
      password: form.get("password"),
      code: needsCode ? form.get("code") : undefined,
    });
    setPending(false);
    if (result.ok) {
      window.location.assign(returnTo);
      return;
    }
    if (result.error.error === "mfa_required") {
      setNeedsCode(true);
      setError(undefined);
      return;
    }
    setError(result.error);
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Sign in">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" autoComplete="username" required errors={error?.fieldErrors?.email} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required errors={error?.fieldErrors?.password} />
      {needsCode ? (
        <Field label="Authentication code" name="code" inputMode="text" autoComplete="one-time-code" required autoFocus />
      ) : null}
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
