"use client";

import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/** Cancel closure: the account opens again, so the whole portal loads afresh. */
export function CancelClosureButton() {
  const { error, pending, ready, call } = useApiCall();
  async function cancel() {
    if ((await call("POST", "/api/account/cancel-closure", {})) !== undefined) window.location.assign("/workspaces");
  }
  return (
    <div>
      <FormError message={error?.message} />
      <button type="button" onClick={cancel} disabled={!ready}>
        {pending ? "Cancelling…" : "Cancel closure"}
      </button>
    </div>
  );
}
