"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { formText } from "./form-text";
import { useApiCall } from "./use-api-call";

/** Sets a new password with the token from a mailed link (passed in by the page, never shown). */
export function ResetPasswordForm({ token }: { token: string }) {
  const { error, setError, pending, ready, call } = useApiCall();
  const [done, setDone] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = formText(form, "password");
    if (password !== formText(form, "again")) {
      setError({ error: "mismatch", message: "The two passwords differ.", fieldErrors: { again: ["The two passwords differ."] } });
      return;
    }
    if ((await call("POST", "/api/auth/reset-password", { token, password })) !== undefined) setDone(true);
  }

  if (done) {
    return (
      <p role="status">
        Your password is reset and every session was signed out. <Link href="/sign-in">Sign in</Link> with the new one.
      </p>
    );
  }
  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Choose a new password">
      <FormError message={error?.message} />
      <Field label="New password (at least 12 characters)" name="password" type="password" autoComplete="new-password" minLength={12} required errors={error?.fieldErrors?.password} />
      <Field label="New password again" name="again" type="password" autoComplete="new-password" required errors={error?.fieldErrors?.again} />
      <button type="submit" disabled={!ready}>
        {pending ? "Saving…" : "Set new password"}
      </button>
    </form>
  );
}
