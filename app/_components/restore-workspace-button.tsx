"use client";

import { useRouter } from "next/navigation";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

export function RestoreWorkspaceButton({ workspaceId, name }: { workspaceId: string; name: string }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  async function restore() {
    if ((await call("POST", `/api/workspaces/${encodeURIComponent(workspaceId)}/restore`, {})) !== undefined) router.refresh();
  }
  return (
    <>
      <button type="button" className="secondary" aria-label={`Restore ${name}`} onClick={restore} disabled={!ready}>
        Restore
      </button>
      <FormError message={error?.message} />
    </>
  );
}
