"use client";

import { useState } from "react";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/**
 * Confirms the email with the link's token on a click, not on page load: mail scanners open
 * links to look at them, and a GET that used the token would spend it for them.
 */
export function VerifyEmailButton({ token }: { token: string }) {
  const { error, pending, ready, call } = useApiCall();
  const [done, setDone] = useState(false);
  if (done) return <p role="status">Your email is confirmed.</p>;
  return (
    <div>
      <FormError message={error?.message} />
      <button
        type="button"
        disabled={!ready}
        onClick={async () => {
          if ((await call("POST", "/api/auth/verify-email", { token })) !== undefined) setDone(true);
        }}
      >
        {pending ? "Confirming…" : "Confirm my email"}
      </button>
    </div>
  );
}
