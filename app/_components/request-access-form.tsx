"use client";

import { useEffect, useRef, useState, type FormEvent } from "react";
import { Field, FormError, TextArea } from "./field";
import { useApiCall } from "./use-api-call";

type TurnstileApi = { render: (element: HTMLElement, options: { sitekey: string; callback: (token: string) => void; "expired-callback": () => void }) => string };

const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

/**
 * The public request-access form. `website` is a honeypot: hidden from people (and from
 * assistive technology), so only a bot fills it; the server then answers as a success and
 * stores nothing. Turnstile's script is loaded only when the instance has a site key and the
 * person has allowed it (the page decides both).
 */
export function RequestAccessForm({ turnstileSiteKey }: { turnstileSiteKey?: string }) {
  const { error, pending, ready, call } = useApiCall();
  const [done, setDone] = useState<string>();
  const [turnstileToken, setTurnstileToken] = useState<string>();
  const widget = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!turnstileSiteKey || !widget.current) return;
    const element = widget.current;
    const render = () => (window as unknown as { turnstile?: TurnstileApi }).turnstile?.render(element, { sitekey: turnstileSiteKey, callback: setTurnstileToken, "expired-callback": () => setTurnstileToken(undefined) });
    const script = document.createElement("script");
    script.src = TURNSTILE_SCRIPT;
    script.async = true;
    script.addEventListener("load", render);
    document.head.append(script);
    return () => script.remove();
  }, [turnstileSiteKey]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await call<{ message: string }>("POST", "/api/access-requests", {
      email: form.get("email"),
      message: form.get("message") ?? "",
      website: form.get("website") ?? "",
      ...(turnstileToken ? { turnstileToken } : {}),
    });
    if (answer) setDone(answer.message);
  }

  if (done) return <p role="status">{done}</p>;
  return (
    <form method="post" onSubmit={onSubmit} noValidate aria-label="Request access">
      <FormError message={error?.message} />
      <Field label="Email" name="email" type="email" autoComplete="email" required errors={error?.fieldErrors?.email} />
      <TextArea label="Message (optional, up to 500 characters)" name="message" maxLength={500} rows={4} errors={error?.fieldErrors?.message} />
      <div className="visually-hidden" aria-hidden="true">
        <label htmlFor="website">Leave this empty</label>
        <input id="website" name="website" type="text" tabIndex={-1} autoComplete="off" />
      </div>
      {turnstileSiteKey && <div ref={widget} />}
      <button type="submit" disabled={!ready || (turnstileSiteKey !== undefined && !turnstileToken)}>
        {pending ? "Sending…" : "Request access"}
      </button>
    </form>
  );
}
