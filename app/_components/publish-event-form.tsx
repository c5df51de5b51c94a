"use client";

import { useState, type FormEvent } from "react";
import { formText } from "./form-text";
import { Field, FormError, TextArea } from "./field";
import type { EventWriteResult } from "@/lib/api/types";
import { apiPath, redactionMessage } from "./format";
import { useApiCall } from "./use-api-call";

/** Publishes an event through the API; it then arrives in the live list like anyone else's. */
export function PublishEventForm({ workspaceId }: { workspaceId: string }) {
  const { error, setError, pending, ready, call } = useApiCall();
  const [notice, setNotice] = useState<string>();

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
    const published = await call<EventWriteResult>("POST", apiPath(workspaceId, "events"), { type: form.get("type"), payload });
    setNotice(published ? [`Published event #${published.event.seq}.`, redactionMessage(published.redaction)].filter(Boolean).join(" ") : undefined);
  }

  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Publish a test event">
      <FormError message={error?.message} />
      <Field label="Event type" name="type" required maxLength={64} defaultValue="test.ping" errors={error?.fieldErrors?.type} />
      <TextArea label="Payload (JSON)" name="payload" rows={3} defaultValue={'{"message": "hello"}'} errors={error?.fieldErrors?.payload} />
      <button type="submit" disabled={!ready}>
        {pending ? "Publishing…" : "Publish event"}
      </button>
      <p role="status">{notice}</p>
    </form>
  );
}
