import type { HttpMethod } from "./endpoint";

/**
 * Signed webhooks from third parties: no session, no Origin, no rate limit before the
 * signature (the provider retries), every refusal audited within a budget. The machine router
 * (lib/router/machine-routes.ts) serves each entry with its provider's lib/webhooks/<provider>.ts.
 */
export type WebhookEndpoint = {
  operationId: string;
  method: Extract<HttpMethod, "POST">;
  path: string;
  summary: string;
  provider: "clerk" | "razorpay";
};

export const webhookEndpoints = {
  clerkWebhook: {
    operationId: "clerkWebhook",
    method: "POST",
    path: "/api/webhooks/clerk",
    summary: "Clerk's user.* and session.* events, verified with svix (Clerk mode only; 404 otherwise)",
    provider: "clerk",
  },
  razorpayWebhook: {
    operationId: "razorpayWebhook",
    method: "POST",
    path: "/api/webhooks/razorpay",
    summary: "Razorpay's subscription.*, payment.captured|failed and refund.processed events, verified by the HMAC of the raw body (billing on only; 404 otherwise)",
    provider: "razorpay",
  },
} as const satisfies Record<string, WebhookEndpoint>;

export const webhookEndpointList: readonly WebhookEndpoint[] = Object.values(webhookEndpoints);
