"use client";

import { useRef, useState, type FormEvent } from "react";
import { Field, FormError, RadioGroup } from "./field";
import { apiPath } from "./format";
import type { RedactionSettings } from "@/lib/api/types";
import { useApiCall } from "./use-api-call";

type Level = RedactionSettings["level"];
type Pattern = { key: number; name: string; pattern: string };

const levels: { value: Level; label: string; description: string }[] = [
  { value: "off", label: "Off", description: "Store everything as sent. Custom patterns are not applied either." },
  { value: "standard", label: "Standard", description: "Known key and token formats, private keys, passwords in URLs and password = … assignments." },
  { value: "strict", label: "Strict", description: "Standard, plus any long high-entropy string (also catches base64 blobs and images)." },
];

/** The workspace's redaction level and custom RE2 patterns, saved with PUT settings/redaction. */
export function RedactionSettingsForm({ workspaceId, initial }: { workspaceId: string; initial: RedactionSettings }) {
  const { error, pending, ready, call } = useApiCall();
  const [level, setLevel] = useState<Level>(initial.level);
  // Row keys (and so input ids) start as indexes, identical on server and client; new rows count on.
  const [patterns, setPatterns] = useState<Pattern[]>(() => initial.customPatterns.map((p, index) => ({ ...p, key: index })));
  const nextKey = useRef(initial.customPatterns.length);
  const [notice, setNotice] = useState<string>();

  const update = (key: number, field: "name" | "pattern", value: string) =>
    setPatterns((rows) => rows.map((row) => (row.key === key ? { ...row, [field]: value } : row)));

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = { level, customPatterns: patterns.map(({ name, pattern }) => ({ name, pattern })) };
    const saved = await call<RedactionSettings>("PUT", apiPath(workspaceId, "settings", "redaction"), body);
    setNotice(saved ? "Saved. New writes use these settings; what is already stored is not changed." : undefined);
  }

  const fieldError = (index: number, field: string) => error?.fieldErrors?.[`customPatterns.${index}.${field}`];
  const listError = error?.fieldErrors?.customPatterns;

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Redaction settings">
      <FormError message={error?.message} />
      <RadioGroup legend="Redaction level" name="level" options={levels} value={level} onChange={setLevel} />
      <fieldset>
        <legend>Custom patterns</legend>
        <p className="hint">
          Each match is stored as <code>[REDACTED:custom:name]</code>. Patterns use RE2 syntax (no lookaround or backreferences). Names use lowercase
          letters, digits and underscores.
        </p>
        {listError ? <p className="field-error">{listError.join(" ")}</p> : null}
        {patterns.length === 0 ? <p className="muted">No custom patterns.</p> : null}
        <ol className="pattern-rows" aria-label="Custom patterns">
          {patterns.map((row, index) => (
            <li key={row.key} className="pattern-row">
              <Field
                label={`Pattern ${index + 1} name`}
                name={`pattern-name-${row.key}`}
                value={row.name}
                onChange={(event) => update(row.key, "name", event.target.value)}
                errors={fieldError(index, "name")}
              />
              <Field
                label={`Pattern ${index + 1} regular expression`}
                name={`pattern-regex-${row.key}`}
                value={row.pattern}
                spellCheck={false}
                onChange={(event) => update(row.key, "pattern", event.target.value)}
                errors={fieldError(index, "pattern")}
              />
              <button type="button" className="secondary" onClick={() => setPatterns((rows) => rows.filter((r) => r.key !== row.key))}>
                Remove pattern {index + 1}
              </button>
            </li>
          ))}
        </ol>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            const key = nextKey.current++;
            setPatterns((rows) => [...rows, { key, name: "", pattern: "" }]);
          }}
        >
          Add pattern
        </button>
      </fieldset>
      <button type="submit" disabled={!ready}>
        {pending ? "Saving…" : "Save settings"}
      </button>
      <p role="status">{notice}</p>
    </form>
  );
}
