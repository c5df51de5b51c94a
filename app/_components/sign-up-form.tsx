"use client";

import type { FormEvent } from "react";
import { Field, FormError } from "./field";
import { useApiCall } from "./use-api-call";

/** `invitation` is the token of the /invite link the person came from, sent along so the sign-up policy can let them in and they join. */
export function SignUpForm({ invitation }: { invitation?: string }) {
  const { error, pending, ready, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const signedUp = await call<{ invitation?: { workspaceId: string | null; joined: boolean } }>("POST", "/api/auth/sign-up", {
      email: form.get("email"),
      password: form.get("password"),
      ...(invitation ? { invitation } : {}),
    });
    if (signedUp === undefined) return;
    const joined = signedUp.invitation;
    if (joined?.workspaceId && joined.joined) window.location.assign(`/w/${encodeURIComponent(joined.workspaceId)}`);
    // Not joined yet (the address needs verifying first): the same link accepts afterwards.
    else if (joined?.workspaceId && invitation) window.location.assign(`/invite?token=${encodeURIComponent(invitation)}`);
    else window.location.assign("/workspaces");
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
