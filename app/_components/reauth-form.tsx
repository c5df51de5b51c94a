"use client";

import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { Field, FormError } from "./field";
import { useApiCall } from "./use-api-call";

/**
 * "Confirm it's you": the password again, and the authenticator or backup code when MFA is on,
 * posted to /api/account/reauth. A confirmation lasts ten minutes in this session; the page
 * behind it (export, closure) re-renders and shows what it guards. The password is never kept
 * in state or echoed back.
 */
export function ReauthForm({ mfa, action }: { mfa: boolean; action: string }) {
  const router = useRouter();
  const { error, ready, pending, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const confirmed = await call("POST", "/api/account/reauth", { password: form.get("password"), code: mfa ? form.get("code") : undefined });
    if (confirmed !== undefined) router.refresh();
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Confirm it's you">
      <p>To {action}, enter your password{mfa ? " and a code from your authenticator app (or a backup code)" : ""} again.</p>
      <FormError message={error?.message} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required errors={error?.fieldErrors?.password} />
      {mfa ? <Field label="Authentication code" name="code" inputMode="text" autoComplete="one-time-code" required errors={error?.fieldErrors?.code} /> : null}
      <button type="submit" disabled={!ready}>
        {pending ? "Checking…" : "Confirm it's you"}
      </button>
    </form>
  );
}
