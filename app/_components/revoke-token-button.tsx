"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { apiPath } from "./format";
import { useApiCall } from "./use-api-call";

export function RevokeTokenButton({ workspaceId, tokenId, name }: { workspaceId: string; tokenId: string; name: string }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  return (
    <>
      <FormError message={error?.message} />
      <ConfirmButton
        label="Revoke"
        accessibleName={`Revoke ${name}`}
        question={`Revoke “${name}”? Anything using it stops working at once.`}
        confirmLabel="Yes, revoke"
        disabled={!ready}
        onConfirm={async () => {
          if ((await call("DELETE", apiPath(workspaceId, "tokens", tokenId))) !== undefined) router.refresh();
        }}
      />
    </>
  );
}
