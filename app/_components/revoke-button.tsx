"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/**
 * Revoke with a confirmation step, then refresh the page: for team tokens and connected AI
 * clients alike. The caller passes the DELETE URL; the server decides again. `name` may come
 * from an AI client itself and is only ever rendered as text.
 */
export function RevokeButton({ url, name, question }: { url: string; name: string; question: string }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  return (
    <>
      <FormError message={error?.message} />
      <ConfirmButton
        label="Revoke"
        accessibleName={`Revoke ${name}`}
        question={question}
        confirmLabel="Yes, revoke"
        disabled={!ready}
        onConfirm={async () => {
          if ((await call("DELETE", url)) !== undefined) router.refresh();
        }}
      />
    </>
  );
}
