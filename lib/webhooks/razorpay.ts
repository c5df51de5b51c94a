import { createHmac } from "node:crypto";
// The SDK exports its utils from no package entry: the file itself, with the extension Node's ESM resolver needs.
import { validateWebhookSignature } from "razorpay/dist/utils/razorpay-utils.js";
import { z } from "zod";
import { webhookReceipts } from "@/db/control/schema";
import { recordWebhookRejection } from "../access/denials";
import { linkOf, paymentEntitySchema, recordPayment, recordRefund, refundEntitySchema, type PaymentLink, type PaymentMove } from "../billing/payment-events";
import { subscriptionEntitySchema } from "../billing/razorpay";
import { applySubscriptionEntity, ourSubscription, subscriptionById } from "../billing/subscription-events";
import { getConfig, type BillingConfig } from "../config";
import { constantTimeEqual } from "../crypto/secrets";
import { getControlDb, type ControlTx } from "../db/store";
import { readBody } from "../http/body";
import { HttpError, notFound } from "../http/errors";
import { logger } from "../log/logger";

/**
 * POST /api/webhooks/razorpay. X-Razorpay-Signature is the HMAC-SHA256, hex, of the raw body
 * with the webhook secret; it is checked on the bytes as they arrived (never re-serialised
 * JSON) by the SDK's validateWebhookSignature before a byte is parsed. The SDK compares with
 * `===`, which can stop at the first differing character: for a body the sender chose, that
 * is a timing oracle on the expected signature. So the header must first be 64 hex digits and
 * match our own HMAC of the same bytes in constant time; only a signature already right
 * reaches the SDK's comparison, which must agree too.
 *
 * Razorpay signs the body only, not X-Razorpay-Event-Id: a captured delivery can be re-sent
 * under a new id. That is why every effect is also idempotent by content (rows keyed by
 * Razorpay's ids) and ordered by the event's own created_at (lib/billing/subscription-events.ts,
 * payment-events.ts): a re-sent event is at best the state already applied.
 *
 * Each delivery is applied once: its event id goes into webhook_receipts in the same
 * transaction as its effect, so a replay (or Razorpay's own retry) is a 200 that changes
 * nothing, and a failed effect leaves no receipt, so the retry applies it. Refusals before the
 * event is understood are a 400 (413 past the cap) and a `webhook.rejected` row, budgeted per
 * IP (lib/access/denials.ts). A verified event we cannot use is a 200 (Razorpay disables a
 * webhook that keeps failing), logged, with its receipt.
 */
export const RAZORPAY_WEBHOOK_MAX_BYTES = 256 * 1024;

const SIGNATURE = /^[0-9a-f]{64}$/;
// No colon: `version:<id>` receipts (payment-events.ts) can never be taken by an event id.
const EVENT_ID = /^[A-Za-z0-9_-]{1,100}$/;

const entity = z.object({ entity: z.unknown() }).optional();
export const razorpayEventSchema = z.object({
  event: z.string().min(1).max(100),
  // Seconds; the bound catches milliseconds, which would pin a row's order for ever.
  created_at: z.number().int().min(0).max(10_000_000_000),
  payload: z.object({ subscription: entity, payment: entity, refund: entity }).default({}),
});
export type RazorpayEvent = z.infer<typeof razorpayEventSchema>;

export type WebhookOutcome = { status: "applied" | "replay" | "ignored"; type: string; reason?: string };

const SUBSCRIPTION_EVENTS = new Set([
  "subscription.authenticated",
  "subscription.activated",
  "subscription.charged",
  "subscription.pending",
  "subscription.halted",
  "subscription.cancelled",
  "subscription.completed",
  "subscription.paused",
  "subscription.resumed",
  "subscription.updated",
]);
const PAYMENT_EVENTS = new Set(["payment.captured", "payment.failed"]);
const REFUND_EVENT = "refund.processed";

class WebhookRejected extends HttpError {
  constructor(readonly reason: string, status = 400) {
    super(status, "webhook_rejected", status === 413 ? `The webhook body is larger than ${RAZORPAY_WEBHOOK_MAX_BYTES} bytes.` : "The webhook could not be verified.");
  }
}

type Delivery = { id: string; event: RazorpayEvent };

async function verified(request: Request, billing: BillingConfig): Promise<Delivery> {
  const raw = await readBody(request, RAZORPAY_WEBHOOK_MAX_BYTES).catch((error: unknown) => {
    throw error instanceof HttpError && error.status === 413 ? new WebhookRejected("oversized", 413) : error;
  });
  const signature = request.headers.get("x-razorpay-signature") ?? "";
  const id = request.headers.get("x-razorpay-event-id") ?? "";
  if (!signature || !id) throw new WebhookRejected("missing_headers");
  if (!SIGNATURE.test(signature)) throw new WebhookRejected("malformed_signature");
  const ours = createHmac("sha256", billing.webhookSecret).update(raw).digest("hex");
  if (!constantTimeEqual(ours, signature) || !validateWebhookSignature(raw.toString("utf8"), signature, billing.webhookSecret)) throw new WebhookRejected("bad_signature");
  if (!EVENT_ID.test(id)) throw new WebhookRejected("malformed_event_id");
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new WebhookRejected("malformed_event");
  }
  const event = razorpayEventSchema.safeParse(json);
  if (!event.success) throw new WebhookRejected("malformed_event");
  return { id, event: event.data };
}

/** Verifies and applies one delivery; with billing off the endpoint does not exist. */
export async function receiveRazorpayWebhook(request: Request, ip: string): Promise<WebhookOutcome> {
  const billing = getConfig().billing;
  if (!billing) throw notFound("There is no such endpoint: billing is off on this Enclave.");
  let delivery: Delivery;
  try {
    delivery = await verified(request, billing);
  } catch (error) {
    if (error instanceof WebhookRejected) {
      logger.warn({ reason: error.reason, ip }, "Razorpay webhook rejected");
      await recordWebhookRejection("razorpay", ip, error.reason);
    }
    throw error;
  }
  return apply(delivery);
}

async function apply({ id, event }: Delivery): Promise<WebhookOutcome> {
  const now = Date.now();
  const control = await getControlDb();
  const result = await control.transaction(async (tx): Promise<Omit<WebhookOutcome, "type">> => {
    const receipt = await tx
      .insert(webhookReceipts)
      .values({ provider: "razorpay", eventId: id, eventType: event.event, receivedAt: now })
      .onConflictDoNothing()
      .returning({ id: webhookReceipts.eventId });
    if (receipt.length === 0) return { status: "replay" };
    return applyEvent(tx, event, now);
  });
  // A verified entity we could not read is Razorpay changing shape: worth a look, not a retry.
  const level = result.reason?.includes("malformed") ? "warn" : "info";
  logger[level]({ razorpayEventId: id, type: event.event, outcome: result.status, reason: result.reason }, "Razorpay webhook");
  return { ...result, type: event.event };
}

const ignored = (reason: string) => ({ status: "ignored" as const, reason });

/** One verified event, inside the receipt's transaction. */
async function applyEvent(tx: ControlTx, event: RazorpayEvent, now: number): Promise<Omit<WebhookOutcome, "type">> {
  const handled = SUBSCRIPTION_EVENTS.has(event.event) || PAYMENT_EVENTS.has(event.event) || event.event === REFUND_EVENT;
  // Everything Razorpay adds later, and the events we do not subscribe to: the receipt keeps a replay quiet.
  if (!handled) return ignored("unhandled_event");
  const eventAt = event.created_at * 1000;
  const { subscription, payment, refund } = event.payload;
  let applied = false;
  let link: PaymentLink | null = null;
  // Why nothing moved, for the log: a stale subscription, an unlinked or stale payment…
  const notes: string[] = [];
  const took = (what: string, moved: PaymentMove | "stale") => {
    if (moved !== "applied") notes.push(`${moved}_${what}`);
    return moved === "applied";
  };

  if (subscription || SUBSCRIPTION_EVENTS.has(event.event)) {
    const entity = subscriptionEntitySchema.safeParse(subscription?.entity);
    if (!entity.success) return ignored("malformed_subscription");
    if (SUBSCRIPTION_EVENTS.has(event.event)) {
      const move = await applySubscriptionEntity(tx, entity.data, event.event, eventAt, now);
      // Not ours, or another workspace's: neither is the payment that came with it.
      if (!move.row) return ignored(`${move.outcome}_subscription`);
      applied = took("subscription", move.outcome) || applied;
      link = linkOf(move.row);
    } else {
      const found = await ourSubscription(tx, entity.data, event.event);
      if ("outcome" in found) return ignored(`${found.outcome}_subscription`);
      link = linkOf(found);
    }
  }

  if (payment) {
    const entity = paymentEntitySchema.safeParse(payment.entity);
    if (!entity.success) return applied ? { status: "applied", reason: "malformed_payment" } : ignored("malformed_payment");
    if (!link && entity.data.subscription_id) {
      const row = await subscriptionById(tx, entity.data.subscription_id);
      if (row) link = linkOf(row);
    }
    const moved = await recordPayment(tx, entity.data, link, eventAt, now);
    if (moved === "unlinked") logger.info({ paymentId: entity.data.id, event: event.event }, "Razorpay payment no subscription of ours links: not recorded");
    applied = took("payment", moved) || applied;
  }

  if (event.event === REFUND_EVENT) {
    const entity = refundEntitySchema.safeParse(refund?.entity);
    if (!entity.success) return applied ? { status: "applied", reason: "malformed_refund" } : ignored("malformed_refund");
    const moved = await recordRefund(tx, entity.data, eventAt, now);
    if (moved === "unlinked") logger.info({ refundId: entity.data.id, paymentId: entity.data.payment_id }, "Razorpay refund of a payment we have not recorded: not recorded");
    applied = took("refund", moved) || applied;
  }

  return applied ? { status: "applied" } : ignored(notes.join(",") || "nothing_to_move");
}
