"use client";

import { useRouter } from "next/navigation";
import type { FormEvent } from "react";
import { formText } from "./form-text";
import { Field, FormError, TextArea } from "./field";
import { setFlash } from "./flash";
import type { KnowledgeEntry, KnowledgeWriteResult } from "@/lib/api/types";
import { apiPath, redactionMessage, workspacePath } from "./format";
import { useApiCall } from "./use-api-call";

export type EditableEntry = Pick<KnowledgeEntry, "id" | "title" | "body" | "tags" | "source" | "version">;

const parseTags = (value: string) =>
  value
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);

/**
 * Create (no `entry`) or edit a knowledge entry through the REST API, so the portal gets the
 * same validation, redaction and audit as any agent. An edit sends the version it was opened
 * at: if someone saved in between, the API answers 409 and nothing is overwritten.
 */
export function KnowledgeForm({ workspaceId, entry }: { workspaceId: string; entry?: EditableEntry }) {
  const router = useRouter();
  const { error, pending, ready, call } = useApiCall();

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const source = formText(form, "source").trim();
    const fields = {
      title: formText(form, "title"),
      body: formText(form, "body"),
      tags: parseTags(formText(form, "tags")),
      source: source || null,
    };
    const saved = entry
      ? await call<KnowledgeWriteResult>("PATCH", apiPath(workspaceId, "knowledge", entry.id), { ...fields, version: entry.version })
      : await call<KnowledgeWriteResult>("POST", apiPath(workspaceId, "knowledge"), fields);
    if (!saved) return;
    const target = workspacePath(workspaceId, "knowledge", saved.entry.id);
    setFlash(target, ["Saved.", redactionMessage(saved.redaction)].filter(Boolean).join(" "));
    router.push(target);
  }

  const errors = error?.fieldErrors;
  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label={entry ? "Edit knowledge entry" : "New knowledge entry"}>
      <FormError message={error?.message} />
      <Field label="Title" name="title" required maxLength={200} defaultValue={entry?.title} errors={errors?.title} />
      <TextArea
        label="Body (Markdown)"
        name="body"
        rows={14}
        defaultValue={entry?.body}
        errors={errors?.body}
        hint="Secrets (API keys, tokens, private keys, passwords) are replaced with [REDACTED:kind] before saving."
      />
      <Field
        label="Tags"
        name="tags"
        defaultValue={entry?.tags.join(", ")}
        hint="Separate tags with commas."
        errors={Object.entries(errors ?? {})
          .filter(([key]) => key.startsWith("tags"))
          .flatMap(([, messages]) => messages)}
      />
      <Field label="Source (optional)" name="source" maxLength={500} defaultValue={entry?.source ?? ""} errors={errors?.source} />
      <button type="submit" disabled={!ready}>
        {pending ? "Saving…" : entry ? "Save changes" : "Create entry"}
      </button>
    </form>
  );
}
