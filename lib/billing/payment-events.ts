import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { payments, webhookReceipts, type PaymentRow, type SubscriptionRow } from "@/db/control/schema";
import type { ControlTx } from "../db/store";

/**
 * Payment history from Razorpay's webhooks: one `payments` row per Razorpay payment or refund,
 * keyed by Razorpay's id, so the same payment told twice (a replay under a new event id,
 * subscription.charged and payment.captured for one charge) is still one row.
 *
 * A row belongs to the workspace and account of OUR subscription row it came through (or, for
 * a refund, of the payment it returns), fixed when it is first recorded.
 *
 * Order: a payment's status moves only forward in time, by the event's own created_at, as a
 * subscription's does. The table has no column for that time (occurredAt is when the payment
 * was made, for the history), so the newest applied event time is kept as a receipt keyed
 * `version:<pay_…|rfnd_…>`, the way lib/webhooks/clerk.ts orders user.updated. An event id
 * cannot take that key (lib/webhooks/razorpay.ts allows no colon in one), and the identity
 * sweep forgets it after 30 days, long after Razorpay's 24 hours of retries.
 */
const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Z]{3}$/);
const status = z.string().regex(/^[a-z_]{1,30}$/);
const seconds = z.number().int().min(0).max(10_000_000_000);

export const paymentEntitySchema = z.object({
  id: z.string().regex(/^pay_[A-Za-z0-9]{1,40}$/),
  amount,
  currency,
  status,
  invoice_id: z.string().regex(/^inv_[A-Za-z0-9]{1,40}$/).nullable().optional(),
  subscription_id: z.string().regex(/^sub_[A-Za-z0-9]{1,40}$/).nullable().optional(),
  created_at: seconds,
});
export type PaymentEntity = z.infer<typeof paymentEntitySchema>;

export const refundEntitySchema = z.object({
  id: z.string().regex(/^rfnd_[A-Za-z0-9]{1,40}$/),
  payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,40}$/),
  amount,
  currency,
  status,
  created_at: seconds,
});
export type RefundEntity = z.infer<typeof refundEntitySchema>;

/** Whose a payment is: always from our own rows. */
export type PaymentLink = Pick<PaymentRow, "workspaceId" | "userId" | "subscriptionId">;

export const linkOf = (row: SubscriptionRow): PaymentLink => ({ workspaceId: row.workspaceId, userId: row.userId, subscriptionId: row.id });

export type PaymentMove = "applied" | "stale" | "unlinked";

const versionKey = (id: string) => `version:${id}`;

async function appliedVersion(tx: ControlTx, id: string): Promise<number | null> {
  const [seen] = await tx.select({ at: webhookReceipts.receivedAt }).from(webhookReceipts).where(and(eq(webhookReceipts.provider, "razorpay"), eq(webhookReceipts.eventId, versionKey(id))));
  return seen?.at ?? null;
}

async function keepVersion(tx: ControlTx, id: string, eventAt: number): Promise<void> {
  await tx
    .insert(webhookReceipts)
    .values({ provider: "razorpay", eventId: versionKey(id), eventType: "version", receivedAt: eventAt })
    .onConflictDoUpdate({ target: [webhookReceipts.provider, webhookReceipts.eventId], set: { receivedAt: eventAt } });
}

/** Equal times apply in arrival order; only an older event is stale. */
const isStale = async (tx: ControlTx, id: string, eventAt: number) => {
  const applied = await appliedVersion(tx, id);
  return applied !== null && applied > eventAt;
};

async function paymentRow(tx: ControlTx, id: string): Promise<PaymentRow | null> {
  const [row] = await tx.select().from(payments).where(eq(payments.id, id));
  return row ?? null;
}

/**
 * Records or updates a payment. `link` is the subscription it came with, if any; without one,
 * a payment already recorded keeps its own. A payment no row of ours links is not recorded.
 */
export async function recordPayment(tx: ControlTx, entity: PaymentEntity, link: PaymentLink | null, eventAt: number, now: number): Promise<PaymentMove> {
  const existing = await paymentRow(tx, entity.id);
  if (existing && existing.kind !== "payment") return "unlinked";
  if (!existing && !link) return "unlinked";
  if (await isStale(tx, entity.id, eventAt)) return "stale";
  if (existing) {
    await tx
      .update(payments)
      .set({ status: entity.status, amount: entity.amount, currency: entity.currency, invoiceId: entity.invoice_id ?? existing.invoiceId, subscriptionId: existing.subscriptionId ?? link?.subscriptionId ?? null })
      .where(eq(payments.id, entity.id));
  } else if (link) {
    await tx.insert(payments).values({
      id: entity.id,
      kind: "payment",
      ...link,
      paymentId: null,
      invoiceId: entity.invoice_id ?? null,
      amount: entity.amount,
      currency: entity.currency,
      status: entity.status,
      occurredAt: entity.created_at * 1000,
      recordedAt: now,
    });
  }
  await keepVersion(tx, entity.id, eventAt);
  return "applied";
}

/** Records or updates a refund, linked through the payment row it returns (none: not recorded). */
export async function recordRefund(tx: ControlTx, entity: RefundEntity, eventAt: number, now: number): Promise<PaymentMove> {
  const payment = await paymentRow(tx, entity.payment_id);
  if (payment?.kind !== "payment") return "unlinked";
  const existing = await paymentRow(tx, entity.id);
  if (existing && existing.kind !== "refund") return "unlinked";
  if (await isStale(tx, entity.id, eventAt)) return "stale";
  if (existing) {
    await tx.update(payments).set({ status: entity.status, amount: entity.amount, currency: entity.currency }).where(eq(payments.id, entity.id));
  } else {
    await tx.insert(payments).values({
      id: entity.id,
      kind: "refund",
      workspaceId: payment.workspaceId,
      userId: payment.userId,
      subscriptionId: payment.subscriptionId,
      paymentId: payment.id,
      invoiceId: payment.invoiceId,
      amount: entity.amount,
      currency: entity.currency,
      status: entity.status,
      occurredAt: entity.created_at * 1000,
      recordedAt: now,
    });
  }
  await keepVersion(tx, entity.id, eventAt);
  return "applied";
}
