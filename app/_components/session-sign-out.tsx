"use client";

import { useRouter } from "next/navigation";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { useApiCall } from "./use-api-call";

/**
 * Ending one session in the list; the server decides again that it is the caller's. Named
 * "End session", not "Sign out", so it never shares a name with the portal's own sign-out button.
 */
export function SessionSignOutButton({ sessionId, device, current }: { sessionId: string; device: string; current: boolean }) {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  return (
    <>
      <FormError message={error?.message} />
      <ConfirmButton
        label="End session"
        accessibleName={`End session on ${device}${current ? " (this session)" : ""}`}
        question={current ? "End this session? You will be signed out here." : `End the session on ${device}? It is signed out at once.`}
        confirmLabel="Yes, end it"
        disabled={!ready}
        onConfirm={async () => {
          if ((await call("DELETE", `/api/account/sessions/${encodeURIComponent(sessionId)}`)) === undefined) return;
          if (current) window.location.assign("/sign-in");
          else router.refresh();
        }}
      />
    </>
  );
}

/** "Sign out everywhere else": every session but this one. */
export function SignOutOthersButton() {
  const router = useRouter();
  const { error, ready, call } = useApiCall();
  return (
    <>
      <FormError message={error?.message} />
      <ConfirmButton
        label="End all other sessions"
        question="End every other session (sign out everywhere else)? This one stays signed in."
        confirmLabel="Yes, end them"
        disabled={!ready}
        onConfirm={async () => {
          if ((await call("POST", "/api/account/sessions/end-others")) !== undefined) router.refresh();
        }}
      />
    </>
  );
}
