"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { setFlash } from "./flash";
import { apiPath, workspacePath } from "./format";
import { sendJson } from "./post-json";
import { useHydrated } from "./use-hydrated";

export function DeleteKnowledge({ workspaceId, id, title }: { workspaceId: string; id: string; title: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [error, setError] = useState<string>();

  async function remove() {
    const result = await sendJson("DELETE", apiPath(workspaceId, "knowledge", id));
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    const list = workspacePath(workspaceId, "knowledge");
    setFlash(list, `Deleted “${title}”.`);
    router.push(list);
  }

  return (
    <div className="actions">
      <FormError message={error} />
      <ConfirmButton
        label="Delete"
        accessibleName="Delete entry"
        question="Delete this entry and its links? This cannot be undone."
        confirmLabel="Yes, delete it"
        disabled={!hydrated}
        onConfirm={remove}
      />
    </div>
  );
}
