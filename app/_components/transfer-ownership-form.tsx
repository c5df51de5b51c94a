"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

type Candidate = { userId: string; email: string; role: string };

/** Hand the workspace to another member; the owner becomes an admin. The server checks everything again. */
export function TransferOwnershipForm({ workspaceId, candidates }: { workspaceId: string; candidates: readonly Candidate[] }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  const [userId, setUserId] = useState(candidates[0]?.userId ?? "");
  const chosen = candidates.find((candidate) => candidate.userId === userId);

  if (candidates.length === 0) return <p className="muted">Add the person as a member first: only a member can become the owner.</p>;

  async function transfer() {
    if ((await call("POST", `/api/workspaces/${encodeURIComponent(workspaceId)}/transfer`, { userId })) !== undefined) router.refresh();
  }

  return (
    <form method="post" onSubmit={(event) => event.preventDefault()} noValidate aria-label="Transfer ownership">
      <FormError message={error?.message} />
      <div className="field">
        <label htmlFor="transfer-to">New owner</label>
        <select id="transfer-to" name="userId" value={userId} onChange={(event) => setUserId(event.target.value)}>
          {candidates.map((candidate) => (
            <option key={candidate.userId} value={candidate.userId}>
              {candidate.email} ({candidate.role})
            </option>
          ))}
        </select>
      </div>
      <ConfirmButton
        label="Transfer ownership"
        question={`Make ${chosen?.email ?? "them"} the owner? You become an admin.`}
        confirmLabel="Yes, transfer"
        disabled={!ready || !chosen}
        onConfirm={transfer}
      />
    </form>
  );
}
