"use client";

import { useState, type FormEvent } from "react";
import { evidencePeriodSchema } from "@/lib/audit/evidence-period";
import { Field } from "./field";
import { formText } from "./form-text";

/**
 * A plain GET form to the bundle endpoint, so the browser downloads the ZIP itself (the
 * response is an attachment: the page stays). The period is checked here by the endpoint's own
 * schema first, so a mistake shows beside its field instead of as a JSON error page.
 */
export function EvidenceForm({ action, today }: { action: string; today: string }) {
  const [errors, setErrors] = useState<Partial<Record<"from" | "to", string[]>>>({});

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const form = new FormData(event.currentTarget);
    const checked = evidencePeriodSchema.safeParse({ from: formText(form, "from"), to: formText(form, "to") });
    if (checked.success) {
      setErrors({});
      return;
    }
    event.preventDefault();
    const next: Partial<Record<"from" | "to", string[]>> = {};
    for (const issue of checked.error.issues) {
      const field = issue.path[0] === "from" ? "from" : "to";
      (next[field] ??= []).push(issue.message);
    }
    setErrors(next);
  }

  return (
    <form method="get" action={action} onSubmit={onSubmit} noValidate aria-label="Evidence bundle">
      <Field label="From (UTC date)" name="from" type="date" required max={today} defaultValue={`${today.slice(0, 4)}-01-01`} errors={errors.from} />
      <Field label="To (UTC date, included)" name="to" type="date" required max={today} defaultValue={today} errors={errors.to} />
      <button type="submit">Download evidence bundle</button>
    </form>
  );
}
