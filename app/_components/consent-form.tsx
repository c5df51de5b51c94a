"use client";

import { useState, type FormEvent } from "react";
import { FormError } from "./field";
import { postJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

type Props = {
  /** The authorization request exactly as received; the server checks it again. */
  query: string;
  formToken: string;
  workspaces: { id: string; name: string; role: string; allowed: string[] }[];
  scopes: { name: string; description: string }[];
  offlineAccess: boolean;
};

/**
 * Workspace picker and permissions, each permission ticked when the person's role there
 * allows it and disabled when it does not. The answer is posted as JSON (same origin, form
 * token) and the browser then goes where the server says: a form POST that redirects to
 * another origin would be stopped by our own CSP's form-action.
 */
export function ConsentForm({ query, formToken, workspaces, scopes, offlineAccess }: Props) {
  const hydrated = useHydrated();
  const [workspaceId, setWorkspaceId] = useState(workspaces[0]?.id ?? "");
  const [unticked, setUnticked] = useState<string[]>([]);
  const [error, setError] = useState<ApiError>();
  const [pending, setPending] = useState(false);
  const allowed = workspaces.find((workspace) => workspace.id === workspaceId)?.allowed ?? [];

  async function answer(approve: boolean) {
    setPending(true);
    const chosen = scopes.map((scope) => scope.name).filter((name) => allowed.includes(name) && !unticked.includes(name));
    const result = await postJson<{ redirectTo: string }>("/oauth/authorize/decision", { query, formToken, approve, workspaceId, scopes: chosen });
    if (result.ok) {
      window.location.assign(result.data.redirectTo);
      return;
    }
    setPending(false);
    setError(result.error);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void answer(true);
  }

  return (
    <form onSubmit={onSubmit} aria-label="Connect AI client">
      <FormError message={error?.message} />
      <div className="field">
        <label htmlFor="workspace">Workspace</label>
        <select id="workspace" name="workspace" value={workspaceId} onChange={(event) => setWorkspaceId(event.target.value)}>
          {workspaces.map((workspace) => (
            <option key={workspace.id} value={workspace.id}>
              {workspace.name} ({workspace.role})
            </option>
          ))}
        </select>
      </div>
      <fieldset>
        <legend>It asks to</legend>
        {scopes.map((scope) => {
          const permitted = allowed.includes(scope.name);
          return (
            <div key={scope.name} className="check">
              <input
                type="checkbox"
                id={`scope-${scope.name}`}
                name="scopes"
                value={scope.name}
                disabled={!permitted}
                checked={permitted && !unticked.includes(scope.name)}
                onChange={(event) =>
                  setUnticked((current) => (event.target.checked ? current.filter((name) => name !== scope.name) : [...current, scope.name]))
                }
              />
              <label htmlFor={`scope-${scope.name}`}>
                {scope.description} <code>{scope.name}</code>
                {permitted ? null : <span className="hint"> — not allowed for your role here</span>}
              </label>
            </div>
          );
        })}
      </fieldset>
      {offlineAccess ? <p className="hint">It also asks to stay connected: it may renew its access until you revoke it.</p> : null}
      <div className="actions">
        <button type="submit" disabled={pending || !hydrated}>
          Approve
        </button>
        <button type="button" className="secondary" disabled={pending || !hydrated} onClick={() => void answer(false)}>
          Deny
        </button>
      </div>
    </form>
  );
}
