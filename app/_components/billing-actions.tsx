"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import type { CheckoutAnswer, CheckoutStart } from "@/lib/workspace/billing";
import { ConfirmButton } from "./confirm-button";
import { FormError } from "./field";
import { postJson } from "./post-json";
import { useApiCall } from "./use-api-call";
import { useHydrated } from "./use-hydrated";

/** The part of Razorpay Checkout (checkout.js's global) this page uses. */
type CheckoutOptions = {
  key: string;
  subscription_id: string;
  name: string;
  description: string;
  handler: (answer: CheckoutAnswer) => void;
  modal?: { ondismiss?: () => void };
};
type Checkout = { open: () => void; on?: (event: "payment.failed", listener: () => void) => void };
type CheckoutConstructor = new (options: CheckoutOptions) => Checkout;

declare global {
  interface Window {
    Razorpay?: CheckoutConstructor;
  }
}

/**
 * Checkout's script, loaded only when the owner subscribes, with this response's CSP nonce:
 * the Billing page's policy names its origin too (lib/http/csp.ts), for browsers before CSP 3.
 */
function loadCheckout(src: string, nonce: string): Promise<CheckoutConstructor> {
  if (window.Razorpay) return Promise.resolve(window.Razorpay);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.nonce = nonce;
    script.async = true;
    script.onload = () => (window.Razorpay ? resolve(window.Razorpay) : reject(new Error("no Checkout")));
    script.onerror = () => reject(new Error("no Checkout"));
    document.head.appendChild(script);
  });
}

const billingPath = (workspaceId: string, action?: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/billing${action ? `/${action}` : ""}`;

/**
 * Subscribe: the server creates the subscription, Checkout takes the payment, and its answer
 * goes back to the server, which believes it only if Razorpay's signature checks out; then
 * the page is rendered again from the database.
 */
export function SubscribeForm({ workspaceId, planId, planName, checkoutScript, nonce }: { workspaceId: string; planId: string; planName: string; checkoutScript: string; nonce: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);

  async function subscribe(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(undefined);
    const fail = (message: string) => {
      setError(message);
      setPending(false);
    };
    const started = await postJson<CheckoutStart>(billingPath(workspaceId, "subscribe"), { planId });
    if (!started.ok) return fail(started.error.message);
    let Razorpay: CheckoutConstructor;
    try {
      Razorpay = await loadCheckout(checkoutScript, nonce);
    } catch {
      return fail("Razorpay Checkout could not be loaded. Try again in a minute.");
    }
    const checkout = new Razorpay({
      key: started.data.keyId,
      subscription_id: started.data.subscriptionId,
      name: started.data.workspaceName ?? "Enclave",
      description: `${started.data.planName} plan`,
      handler: (answer) => {
        void (async () => {
          const verified = await postJson(billingPath(workspaceId, "verify"), {
            razorpay_payment_id: answer.razorpay_payment_id,
            razorpay_subscription_id: answer.razorpay_subscription_id,
            razorpay_signature: answer.razorpay_signature,
          });
          if (!verified.ok) return fail(verified.error.message);
          setDone(true);
          router.refresh();
        })();
      },
      modal: { ondismiss: () => setPending(false) },
    });
    checkout.on?.("payment.failed", () => fail("The payment did not go through; nothing was charged here. Try again or use another method."));
    checkout.open();
  }

  return (
    <form aria-label={`Subscribe to ${planName}`} onSubmit={(event) => void subscribe(event)}>
      <FormError message={error} />
      {done ? <p role="status">Payment verified: the {planName} plan is in force.</p> : null}
      <button type="submit" disabled={!hydrated || pending}>
        {pending ? "Opening Checkout…" : `Subscribe to ${planName}`}
      </button>
    </form>
  );
}

/** Cancel at the end of the period (asked twice), or resume a cancellation; then the page is rendered again. */
export function SubscriptionAction({ workspaceId, action }: { workspaceId: string; action: "cancel" | "resume" }) {
  const router = useRouter();
  const { error, ready, pending, call } = useApiCall();
  const run = async () => {
    if ((await call("POST", billingPath(workspaceId, action), {})) !== undefined) router.refresh();
  };
  return (
    <form aria-label={action === "cancel" ? "Cancel subscription" : "Resume subscription"} onSubmit={(event) => event.preventDefault()}>
      <FormError message={error?.message} />
      {action === "cancel" ? (
        <ConfirmButton label="Cancel at period end" question="Cancel the subscription when its current period ends?" confirmLabel="Yes, cancel at period end" disabled={!ready} onConfirm={run} />
      ) : (
        <button type="button" disabled={!ready} onClick={() => void run()}>
          {pending ? "Resuming…" : "Resume subscription"}
        </button>
      )}
    </form>
  );
}
