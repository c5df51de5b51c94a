"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { ConfirmButton } from "./confirm-button";
import { Field, FormError } from "./field";
import { formatTime } from "./format";
import { useApiCall } from "./use-api-call";

/**
 * Close my account: the password again (and the code when MFA is on) in the same form, then a
 * confirmation step. In Clerk mode there is no password of Enclave's to ask for: a Clerk
 * sign-in in the last ten minutes is the confirmation, and the server says when it is older. On success the server has already ended every session, this one too, so
 * the page says what happened and offers sign-in instead of a portal that would no longer open.
 */
export function CloseAccountForm({ mfa, confirmBy = "password" }: { mfa: boolean; confirmBy?: "password" | "recent-sign-in" }) {
  const { error, ready, call } = useApiCall();
  const [closesAt, setClosesAt] = useState<number>();
  const [form, setForm] = useState<HTMLFormElement | null>(null);

  async function close() {
    if (!form) return;
    const fields = new FormData(form);
    const body = confirmBy === "password" ? { password: fields.get("password"), ...(mfa ? { code: fields.get("code") } : {}) } : {};
    const result = await call<{ purgeAt: number }>("POST", "/api/account/close", body);
    if (result) setClosesAt(result.purgeAt);
  }

  if (closesAt !== undefined) {
    return (
      <section role="status" aria-labelledby="closed-heading" className="notice">
        <h2 id="closed-heading">Your account is closing</h2>
        <p>
          You have been signed out everywhere. Your account and the workspaces listed above will be erased after <strong>{formatTime(closesAt)}</strong>. Until then, signing in
          again lets you cancel the closure.
        </p>
        <p>
          <Link href="/sign-in">Sign in</Link>
        </p>
      </section>
    );
  }

  return (
    <form ref={setForm} method="post" onSubmit={(event: FormEvent) => event.preventDefault()} noValidate aria-label="Close my account">
      <FormError message={error?.message} />
      {confirmBy === "recent-sign-in" ? (
        <p className="muted">A sign-in in the last ten minutes confirms it is you; if yours is older, sign out and sign in again first.</p>
      ) : (
        <Field label="Password" name="password" type="password" autoComplete="current-password" required errors={error?.fieldErrors?.password} />
      )}
      {mfa && confirmBy === "password" ? <Field label="Authentication code" name="code" autoComplete="one-time-code" required hint="From your authenticator app, or a backup code." /> : null}
      <ConfirmButton label="Close my account" question="Close your account and sign out everywhere?" confirmLabel="Yes, close my account" disabled={!ready} onConfirm={close} />
    </form>
  );
}
