import type { HttpMethod } from "./endpoint";

/**
 * Signed webhooks from third parties: no session, no Origin, no rate limit before the
 * signature (the provider retries), every refusal audited within a budget. The route builds
 * its handler from lib/webhooks/clerk.ts; this table is what documents them beside the
 * other machine endpoints.
 */
export type WebhookEndpoint = {
  operationId: string;
  method: Extract<HttpMethod, "POST">;
  path: string;
  summary: string;
  provider: "clerk";
};

export const webhookEndpoints = {
  clerkWebhook: {
    operationId: "clerkWebhook",
    method: "POST",
    path: "/api/webhooks/clerk",
    summary: "Clerk's user.* and session.* events, verified with svix (Clerk mode only; 404 otherwise)",
    provider: "clerk",
  },
} as const satisfies Record<string, WebhookEndpoint>;

export const webhookEndpointList: readonly WebhookEndpoint[] = Object.values(webhookEndpoints);
