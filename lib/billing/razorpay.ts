import Razorpay from "razorpay";
import { z } from "zod";
import type { BillingConfig } from "../config";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";

/**
 * The one Razorpay client, from the official SDK. RAZORPAY_API_URL only moves its base URL
 * (tests point it at a local fake of Razorpay's HTTP API); every request is still the SDK's own.
 */
const REQUEST_TIMEOUT_MS = 10_000;

let cached: { config: BillingConfig; client: Razorpay } | undefined;

export function razorpayClient(config: BillingConfig): Razorpay {
  if (cached?.config === config) return cached.client;
  const client = new Razorpay({ key_id: config.keyId, key_secret: config.keySecret });
  // The SDK builds one axios instance and names no way to move it; its defaults are that way.
  const http = (client.api as unknown as { rq: { defaults: { baseURL?: string; timeout?: number } } }).rq;
  http.defaults.baseURL = config.apiUrl;
  http.defaults.timeout = REQUEST_TIMEOUT_MS;
  cached = { config, client };
  return client;
}

/** Razorpay refused or could not be reached: the caller's request is a 502, nothing changed here. */
export class RazorpayCallError extends HttpError {
  constructor(readonly detail: string) {
    super(502, "billing_unavailable", "Razorpay did not accept the request; nothing was changed. Try again in a minute.");
  }
}

/**
 * Runs one SDK call; whatever it throws (an API error object, or a TypeError when there was no
 * response at all) becomes a RazorpayCallError with a loggable, secret-free detail.
 */
export async function callRazorpay<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const detail = describeSdkError(error);
    logger.warn({ call: what, detail }, "Razorpay call failed");
    throw new RazorpayCallError(detail);
  }
}

function describeSdkError(error: unknown): string {
  if (error && typeof error === "object" && "statusCode" in error) {
    const { statusCode, error: body } = error as { statusCode: unknown; error?: { code?: unknown; description?: unknown } };
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    return `HTTP ${String(statusCode)}: ${text(body?.code)} ${text(body?.description)}`.trim().slice(0, 300);
  }
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

/** Razorpay's notes are an object, or `[]` when empty. */
const notesSchema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()).transform(() => ({}))]).default({});

/** The part of Razorpay's subscription entity we use, from the API or a webhook. */
export const subscriptionEntitySchema = z.object({
  id: z.string().regex(/^sub_[A-Za-z0-9]{1,40}$/),
  plan_id: z.string().max(60),
  status: z.enum(["created", "authenticated", "active", "pending", "halted", "cancelled", "completed", "expired", "paused"]),
  current_end: z.number().int().nullable().optional(),
  notes: notesSchema,
});
export type SubscriptionEntity = z.infer<typeof subscriptionEntitySchema>;

/** The notes every subscription we create carries: what a webhook's subscription is checked against. */
export const subscriptionNotes = (workspaceId: string, userId: string) => ({ workspace_id: workspaceId, user_id: userId });
