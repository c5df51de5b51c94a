"use client";

import { useState } from "react";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

export function ResendVerificationButton() {
  const { error, pending, ready, call } = useApiCall();
  const [sent, setSent] = useState(false);
  if (sent) return <p role="status">A new link is on its way; it works once, within 24 hours.</p>;
  return (
    <div>
      <FormError message={error?.message} />
      <button
        type="button"
        disabled={!ready}
        onClick={async () => {
          if ((await call("POST", "/api/account/email/verification")) !== undefined) setSent(true);
        }}
      >
        {pending ? "Sending…" : "Send the confirmation link again"}
      </button>
    </div>
  );
}
