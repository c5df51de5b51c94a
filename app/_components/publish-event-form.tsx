"use client";

import { useState, type FormEvent } from "react";
import { formText } from "./form-text";
import { Field, FormError, TextArea } from "./field";
import { apiPath, redactionMessage, type RedactionReport } from "./format";
import { sendJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

type Published = { event: { seq: number }; redaction: RedactionReport };

/** Publishes an event through the API; it then arrives in the live list like anyone else's. */
export function PublishEventForm({ workspaceId }: { workspaceId: string }) {
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = formText(form, "payload").trim();
    let payload: unknown = {};
    try {
      if (text) payload = JSON.parse(text);
    } catch {
      setNotice(undefined);
      setError({ error: "invalid_json", message: "The payload is not valid JSON.", fieldErrors: { payload: ["Write the payload as JSON, e.g. {\"message\": \"hello\"}."] } });
      return;
    }
    setPending(true);
    const result = await sendJson<Published>("POST", apiPath(workspaceId, "events"), { type: form.get("type"), payload });
    setPending(false);
    if (!result.ok) {
      setNotice(undefined);
      setError(result.error);
      return;
    }
    setError(undefined);
    setNotice([`Published event #${result.data.event.seq}.`, redactionMessage(result.data.redaction)].filter(Boolean).join(" "));
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Publish a test event">
      <FormError message={error?.message} />
      <Field label="Event type" name="type" required maxLength={64} defaultValue="test.ping" errors={error?.fieldErrors?.type} />
      <TextArea label="Payload (JSON)" name="payload" rows={3} defaultValue={'{"message": "hello"}'} errors={error?.fieldErrors?.payload} />
      <button type="submit" disabled={pending || !hydrated}>
        {pending ? "Publishing…" : "Publish event"}
      </button>
      <p role="status">{notice}</p>
    </form>
  );
}
