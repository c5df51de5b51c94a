"use client";

import { useState } from "react";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/** One POST on a click; once it succeeds the button gives way to `done`, said as a status. */
export function PostThenSayButton({ path, body, label, pendingLabel, done }: { path: string; body?: unknown; label: string; pendingLabel: string; done: string }) {
  const { error, pending, ready, call } = useApiCall();
  const [succeeded, setSucceeded] = useState(false);
  if (succeeded) return <p role="status">{done}</p>;
  return (
    <div>
      <FormError message={error?.message} />
      <button
        type="button"
        disabled={!ready}
        onClick={async () => {
          if ((await call("POST", path, body)) !== undefined) setSucceeded(true);
        }}
      >
        {pending ? pendingLabel : label}
      </button>
    </div>
  );
}
