"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import { apiPath } from "./format";
import { TokenAccessFields, type Access, type GrantableScope } from "./token-access-fields";
import type { IssuedToken } from "@/lib/api/types";
import { useApiCall } from "./use-api-call";

/**
 * Issues a team token. The secret lives only in this component's state: it is never in a URL,
 * the page's server render or storage, so a reload (or leaving the page) loses it for good —
 * the server keeps only its hash.
 */
export function CreateTokenForm({ workspaceId, roles, scopes }: { workspaceId: string; roles: readonly string[]; scopes: readonly GrantableScope[] }) {
  const router = useRouter();
  const { error, setError, pending, ready, call } = useApiCall();
  const [access, setAccess] = useState<Access>("role");
  const [issued, setIssued] = useState<IssuedToken>();
  const [copied, setCopied] = useState<string>();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const picked = form.getAll("scopes").filter((scope) => typeof scope === "string");
    if (access === "scopes" && picked.length === 0) {
      setError({ error: "invalid_request", message: "Choose at least one scope.", fieldErrors: { scopes: ["Tick at least one scope."] } });
      return;
    }
    const created = await call<IssuedToken>("POST", apiPath(workspaceId, "tokens"), {
      name: form.get("name"),
      ...(access === "role" ? { role: form.get("role") } : { scopes: picked }),
      expiresInDays: Number(form.get("expiresInDays")),
    });
    if (!created) return;
    setCopied(undefined);
    setIssued(created);
    formElement.reset();
    // Back to the default choice, as reset() just did for the uncontrolled fields.
    setAccess("role");
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
        <TokenAccessFields access={access} onAccessChange={setAccess} roles={roles} scopes={scopes} errors={error?.fieldErrors} />
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
        <button type="submit" disabled={!ready}>
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
    </>
  );
}
