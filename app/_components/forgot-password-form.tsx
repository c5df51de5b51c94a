"use client";

import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { formText } from "./form-text";
import { useApiCall } from "./use-api-call";

/** Asks for a reset link. The answer is the same whether or not the email has an account. */
export function ForgotPasswordForm() {
  const { error, pending, ready, call } = useApiCall();
  const [answer, setAnswer] = useState<string>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await call<{ message: string }>("POST", "/api/auth/forgot-password", { email: formText(new FormData(event.currentTarget), "email") });
    if (result) setAnswer(result.message);
  }

  if (answer) return <p role="status">{answer}</p>;
  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Reset your password">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" autoComplete="username" required errors={error?.fieldErrors?.email} />
      <button type="submit" disabled={!ready}>
        {pending ? "Sending…" : "Send me a reset link"}
      </button>
    </form>
  );
}
