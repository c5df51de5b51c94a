"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { apiPath } from "./format";
import { sendJson } from "./post-json";
import { useHydrated } from "./use-hydrated";

export function RevokeTokenButton({ workspaceId, tokenId, name }: { workspaceId: string; tokenId: string; name: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [error, setError] = useState<string>();
  return (
    <>
      <FormError message={error} />
      <ConfirmButton
        label="Revoke"
        accessibleName={`Revoke ${name}`}
        question={`Revoke “${name}”? Anything using it stops working at once.`}
        confirmLabel="Yes, revoke"
        disabled={!hydrated}
        onConfirm={async () => {
          const result = await sendJson("DELETE", apiPath(workspaceId, "tokens", tokenId));
          if (!result.ok) {
            setError(result.error.message);
            return;
          }
          setError(undefined);
          router.refresh();
        }}
      />
    </>
  );
}
