"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError, SelectField } from "./field";
import { apiPath } from "./format";
import { sendJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

type Issued = { token: string; summary: { id: string; name: string } };

/**
 * Issues a team token. The secret lives only in this component's state: it is never in a URL,
 * the page's server render or storage, so a reload (or leaving the page) loses it for good —
 * the server keeps only its hash.
 */
export function CreateTokenForm({ workspaceId, roles }: { workspaceId: string; roles: readonly string[] }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [pending, setPending] = useState(false);
  const [issued, setIssued] = useState<Issued>();
  const [copied, setCopied] = useState<string>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setPending(true);
    const result = await sendJson<Issued>("POST", apiPath(workspaceId, "tokens"), {
      name: form.get("name"),
      role: form.get("role"),
      expiresInDays: Number(form.get("expiresInDays")),
    });
    setPending(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(undefined);
    setCopied(undefined);
    setIssued(result.data);
    formElement.reset();
    router.refresh();
  }

  async function copy(token: string) {
    try {
      await navigator.clipboard.writeText(token);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Could not copy: select the token and copy it yourself.");
    }
  }

  return (
    <>
      {issued ? (
        <section className="secret-once" aria-labelledby="issued-heading">
          <h3 id="issued-heading">Token “{issued.summary.name}” created</h3>
          <p className="warning">Copy this token now. It will not be shown again: Enclave keeps only a hash of it.</p>
          <div className="field">
            <label htmlFor="issued-token">New token</label>
            <div className="copy-row">
              <input id="issued-token" readOnly value={issued.token} spellCheck={false} autoComplete="off" onFocus={(event) => event.currentTarget.select()} />
              <button type="button" onClick={() => copy(issued.token)}>
                Copy
              </button>
            </div>
          </div>
          <p role="status">{copied}</p>
          <button type="button" className="secondary" onClick={() => setIssued(undefined)}>
            I have stored the token
          </button>
        </section>
      ) : null}
      <form method="post" onSubmit={onSubmit} noValidate aria-label="New team token">
        <FormError message={error?.message} />
        <Field label="Token name" name="name" required maxLength={80} errors={error?.fieldErrors?.name} />
        <SelectField label="Role" name="role" options={roles} defaultValue="member" errors={error?.fieldErrors?.role} />
        <Field
          label="Expires after (days)"
          name="expiresInDays"
          type="number"
          min={1}
          max={365}
          defaultValue={90}
          required
          errors={error?.fieldErrors?.expiresInDays}
        />
        <button type="submit" disabled={pending || !hydrated}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
    </>
  );
}
