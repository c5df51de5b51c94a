"use client";

import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { formText } from "./form-text";
import { useApiCall } from "./use-api-call";

/** Current password (and code when MFA is on), then the new one twice; the server ends every other session. */
export function ChangePasswordForm({ mfaEnabled }: { mfaEnabled: boolean }) {
  const { error, setError, pending, ready, call } = useApiCall();
  const [notice, setNotice] = useState<string>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const newPassword = formText(form, "newPassword");
    if (newPassword !== formText(form, "newPasswordAgain")) {
      setError({ error: "mismatch", message: "The two new passwords differ.", fieldErrors: { newPasswordAgain: ["The two new passwords differ."] } });
      return;
    }
    const code = formText(form, "code");
    const result = await call<{ sessionsEnded: number }>("POST", "/api/account/password", {
      currentPassword: formText(form, "currentPassword"),
      newPassword,
      ...(code ? { code } : {}),
    });
    if (!result) return;
    formElement.reset();
    setNotice(`Password changed. ${result.sessionsEnded === 1 ? "1 other session was" : `${result.sessionsEnded} other sessions were`} signed out.`);
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Change password">
      {notice ? <p role="status">{notice}</p> : null}
      <FormError message={error?.message} />
      <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required errors={error?.fieldErrors?.currentPassword} />
      {mfaEnabled ? <Field label="Code from your authenticator app (or a backup code)" name="code" id="password-change-code" autoComplete="one-time-code" required errors={error?.fieldErrors?.code} /> : null}
      <Field label="New password (at least 12 characters)" name="newPassword" type="password" autoComplete="new-password" minLength={12} required errors={error?.fieldErrors?.newPassword} />
      <Field label="New password again" name="newPasswordAgain" type="password" autoComplete="new-password" required errors={error?.fieldErrors?.newPasswordAgain} />
      <button type="submit" disabled={!ready}>
        {pending ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}
