"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/**
 * Disconnects one AI client. The caller passes the DELETE URL, so the admin list (workspace
 * API) and the person's own list (account API) share this button; the server decides again.
 * `clientName` comes from the client itself and is only ever rendered as text.
 */
export function RevokeClientButton({ url, clientName }: { url: string; clientName: string }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  return (
    <>
      <FormError message={error?.message} />
      <ConfirmButton
        label="Revoke"
        accessibleName={`Revoke ${clientName}`}
        question={`Disconnect “${clientName}”? It loses access on its next request and must be connected again.`}
        confirmLabel="Yes, revoke"
        disabled={!ready}
        onConfirm={async () => {
          if ((await call("DELETE", url)) !== undefined) router.refresh();
        }}
      />
    </>
  );
}
