"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { setFlash } from "./flash";
import { apiPath, workspacePath } from "./format";
import { useApiCall } from "./use-api-call";

export function DeleteKnowledge({ workspaceId, id, title }: { workspaceId: string; id: string; title: string }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();

  async function remove() {
    if ((await call("DELETE", apiPath(workspaceId, "knowledge", id))) === undefined) return;
    const list = workspacePath(workspaceId, "knowledge");
    setFlash(list, `Deleted “${title}”.`);
    router.push(list);
  }

  return (
    <div className="actions">
      <FormError message={error?.message} />
      <ConfirmButton
        label="Delete"
        accessibleName="Delete entry"
        question="Delete this entry and its links? This cannot be undone."
        confirmLabel="Yes, delete it"
        disabled={!ready}
        onConfirm={remove}
      />
    </div>
  );
}
