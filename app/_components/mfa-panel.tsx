"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Field, FormError } from "./field";
import type { TotpSetup } from "@/lib/api/types";
import { postJson, type ApiError } from "./post-json";
import { useHydrated } from "./use-hydrated";

type Step = { kind: "idle" } | { kind: "scanning"; setup: TotpSetup } | { kind: "codes"; backupCodes: string[] };

export function MfaPanel({ enabled }: { enabled: boolean }) {
  const router = useRouter();
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const hydrated = useHydrated();
  const [error, setError] = useState<ApiError>();

  async function begin() {
    const result = await postJson<TotpSetup>("/api/account/mfa/setup");
    if (result.ok) setStep({ kind: "scanning", setup: result.data });
    setError(result.ok ? undefined : result.error);
  }

  async function submitCode(event: FormEvent<HTMLFormElement>, url: string) {
    event.preventDefault();
    const code = new FormData(event.currentTarget).get("code");
    const result = await postJson<{ backupCodes?: string[] }>(url, { code });
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(undefined);
    if (result.data.backupCodes) setStep({ kind: "codes", backupCodes: result.data.backupCodes });
    else router.refresh();
  }

  if (step.kind === "codes") {
    return (
      <section aria-labelledby="backup-codes-heading">
        <h3 id="backup-codes-heading">Backup codes</h3>
        <p>Two-factor authentication is on. Save these ten codes somewhere safe: each works once if you lose your device, and they will not be shown again.</p>
        <ul className="codes" aria-label="Backup codes">
          {step.backupCodes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={() => router.refresh()}>
          I have saved my backup codes
        </button>
      </section>
    );
  }

  if (enabled) {
    return (
      <form method="post" onSubmit={(event) => submitCode(event, "/api/account/mfa/disable")} noValidate aria-label="Turn off two-factor authentication">
        <p>Two-factor authentication is on.</p>
        <FormError message={error?.message} />
        <Field label="Authentication code" name="code" autoComplete="one-time-code" required />
        <button type="submit" disabled={!hydrated}>Turn off two-factor authentication</button>
      </form>
    );
  }

  if (step.kind === "scanning") {
    return (
      <form method="post" onSubmit={(event) => submitCode(event, "/api/account/mfa/confirm")} noValidate aria-label="Confirm two-factor authentication">
        <p>Scan this code with your authenticator app, or enter the key by hand, then type the 6-digit code it shows.</p>
        {/* A data: URL made on the server from our own secret; no markup is injected. */}
        <img src={step.setup.qrDataUrl} alt="QR code for your authenticator app" width={200} height={200} />
        <p>
          Key: <code data-testid="totp-secret">{step.setup.secret}</code>
        </p>
        <FormError message={error?.message} />
        <Field label="Authentication code" name="code" inputMode="numeric" autoComplete="one-time-code" required />
        <button type="submit" disabled={!hydrated}>Turn on two-factor authentication</button>
      </form>
    );
  }

  return (
    <div>
      <p>Two-factor authentication is off.</p>
      <FormError message={error?.message} />
      <button type="button" onClick={begin} disabled={!hydrated}>
        Set up two-factor authentication
      </button>
    </div>
  );
}
