import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { listAccountPayments, listWorkspacePayments } from "@/lib/billing/payments";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jsonOf } from "./harness";
import { billingSnapshot, deliverRaw, entityFor, newEventId, ownedWorkspace, ourSubscriptionRow, paymentRows, subscriptionRow, type DeliveryOptions } from "./razorpay-deliveries";
import { billingEnv, newRazorpayId, razorpayKeys, startFakeRazorpay, webhookEvent } from "./razorpay";
import { useTempStore } from "./store";

const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());
useTempStore(billingEnv(keys, fake.url));
beforeEach(() => resetRateLimits());

const deliver = (event: unknown, options: DeliveryOptions = {}) => deliverRaw(JSON.stringify(event), keys.webhookSecret, options);
const outcomeOf = async (response: Response) => (await jsonOf<{ outcome?: string }>(response)).outcome;
const T = 1_800_000_000;

/** A payment entity as Razorpay sends it with a subscription's charge. */
const paymentEntity = (fields: Record<string, unknown> = {}) => ({
  id: newRazorpayId("pay"),
  amount: 49900,
  currency: "INR",
  status: "captured",
  invoice_id: newRazorpayId("inv"),
  method: "card",
  email: "payer@example.com",
  created_at: T - 5,
  ...fields,
});

async function paying() {
  const owner = await ownedWorkspace();
  const row = await ourSubscriptionRow(owner, { status: "active", eventAt: (T - 100) * 1000 });
  return { ...owner, row };
}

describe("payments are recorded once, linked through our subscription row", () => {
  it("subscription.charged records the payment against the subscription's workspace and account; a replay or payment.captured for it leaves one row", async () => {
    const { workspaceId, userId, row } = await paying();
    const payment = paymentEntity();
    const id = newEventId();
    const charged = webhookEvent("subscription.charged", { subscription: entityFor(row, "active"), payment }, T);
    expect(await outcomeOf(await deliver(charged, { id }))).toBe("applied");
    // The history reads leave the account id out: it is the reader's own.
    const listed = {
      id: payment.id,
      kind: "payment",
      workspaceId,
      subscriptionId: row.id,
      paymentId: null,
      invoiceId: payment.invoice_id,
      amount: 49900,
      currency: "INR",
      status: "captured",
      occurredAt: payment.created_at * 1000,
    };
    const expected = { ...listed, userId };
    expect(await paymentRows()).toMatchObject([expected]);

    expect(await outcomeOf(await deliver(charged, { id }))).toBe("replay");
    // The same charge told again by another event (another id, a second later): still one row.
    expect((await deliver(webhookEvent("payment.captured", { payment }, T + 1))).status).toBe(200);
    expect(await paymentRows()).toMatchObject([expected]);
    expect(await listWorkspacePayments(workspaceId)).toMatchObject([listed]);
    expect(await listAccountPayments(userId)).toMatchObject([listed]);
  });

  it("payment.failed and payment.captured link by the payment's subscription_id; a payment's status only moves forward in time", async () => {
    const { workspaceId, row } = await paying();
    const payment = paymentEntity({ subscription_id: row.id, status: "failed" });
    expect(await outcomeOf(await deliver(webhookEvent("payment.failed", { payment }, T)))).toBe("applied");
    expect(await paymentRows()).toMatchObject([{ id: payment.id, workspaceId, subscriptionId: row.id, status: "failed" }]);
    // A late authorisation succeeding later is taken…
    await deliver(webhookEvent("payment.captured", { payment: { ...payment, status: "captured" } }, T + 10));
    // …and an older failure arriving after it does not undo it.
    expect(await outcomeOf(await deliver(webhookEvent("payment.failed", { payment }, T + 5)))).toBe("ignored");
    expect((await paymentRows()).map((p) => p.status)).toEqual(["captured"]);
  });

  it("a payment already recorded is updated by a later event that names no subscription", async () => {
    const { row } = await paying();
    const payment = paymentEntity({ status: "authorized" });
    await deliver(webhookEvent("subscription.charged", { subscription: entityFor(row, "active"), payment }, T));
    await deliver(webhookEvent("payment.captured", { payment: { ...payment, status: "captured", invoice_id: null } }, T + 1));
    expect(await paymentRows()).toMatchObject([{ id: payment.id, status: "captured", invoiceId: payment.invoice_id, subscriptionId: row.id }]);
  });

  it("the charge is history even when the subscription move it came with is stale", async () => {
    const { row } = await paying();
    await deliver(webhookEvent("subscription.halted", { subscription: entityFor(row, "halted") }, T + 10));
    const payment = paymentEntity();
    expect(await outcomeOf(await deliver(webhookEvent("subscription.charged", { subscription: entityFor(row, "active"), payment }, T)))).toBe("applied");
    expect((await subscriptionRow(row.id))?.status).toBe("halted");
    expect((await paymentRows()).map((p) => p.id)).toEqual([payment.id]);
  });

  it("a payment no row of ours links (no subscription, an unknown subscription_id) is ignored, nothing recorded", async () => {
    await paying();
    const before = JSON.parse(await billingSnapshot()) as { payments: unknown; subscriptions: unknown };
    for (const payment of [paymentEntity(), paymentEntity({ subscription_id: "sub_NotOursAtAll01" })]) {
      const response = await deliver(webhookEvent("payment.captured", { payment }, T));
      expect(response.status).toBe(200);
      expect(await outcomeOf(response)).toBe("ignored");
    }
    const after = JSON.parse(await billingSnapshot()) as typeof before;
    expect([after.payments, after.subscriptions]).toEqual([before.payments, before.subscriptions]);
  });

  it("a charge on another workspace's subscription id (notes mismatch) records neither the move nor the payment", async () => {
    const victim = await paying();
    const attacker = await ownedWorkspace();
    const before = JSON.parse(await billingSnapshot()) as { payments: unknown; subscriptions: unknown };
    const forged = entityFor({ ...victim.row, workspaceId: attacker.workspaceId, userId: attacker.userId }, "active");
    for (const type of ["subscription.charged", "payment.captured"]) {
      const response = await deliver(webhookEvent(type, { subscription: forged, payment: paymentEntity() }, T));
      expect(await outcomeOf(response)).toBe("ignored");
    }
    const after = JSON.parse(await billingSnapshot()) as typeof before;
    expect([after.payments, after.subscriptions]).toEqual([before.payments, before.subscriptions]);
    expect(await listWorkspacePayments(attacker.workspaceId)).toEqual([]);
  });

  it("a payment entity that is not one (amount as text, no id) is a 200 that records nothing", async () => {
    const { row } = await paying();
    for (const payment of [paymentEntity({ amount: "499.00", subscription_id: row.id }), { ...paymentEntity({ subscription_id: row.id }), id: "not-a-payment" }]) {
      const response = await deliver(webhookEvent("payment.captured", { payment }, T));
      expect(response.status).toBe(200);
      expect(await outcomeOf(response)).toBe("ignored");
    }
    expect(await paymentRows()).toEqual([]);
  });
});

describe("refunds", () => {
  const refundEntity = (paymentId: string, fields: Record<string, unknown> = {}) => ({ id: newRazorpayId("rfnd"), payment_id: paymentId, amount: 49900, currency: "INR", status: "processed", created_at: T + 50, ...fields });

  it("refund.processed is recorded as a refund, linked through the payment it returns; once, however often it is told", async () => {
    const { workspaceId, userId, row } = await paying();
    const payment = paymentEntity();
    await deliver(webhookEvent("subscription.charged", { subscription: entityFor(row, "active"), payment }, T));
    const refund = refundEntity(payment.id, { amount: 20000 });
    const event = webhookEvent("refund.processed", { refund, payment: { ...payment, status: "refunded" } }, T + 60);
    const id = newEventId();
    expect(await outcomeOf(await deliver(event, { id }))).toBe("applied");
    expect(await outcomeOf(await deliver(event, { id }))).toBe("replay");
    expect(await outcomeOf(await deliver(event))).toBe("applied");
    const rows = await listWorkspacePayments(workspaceId);
    expect(rows).toHaveLength(2);
    expect(rows).toContainEqual(expect.objectContaining({ id: refund.id, kind: "refund", workspaceId, paymentId: payment.id, subscriptionId: row.id, invoiceId: payment.invoice_id, amount: 20000, status: "processed", occurredAt: refund.created_at * 1000 }));
    expect(rows).toContainEqual(expect.objectContaining({ id: payment.id, kind: "payment", status: "refunded" }));
    expect((await listAccountPayments(userId)).map((p) => p.kind).sort()).toEqual(["payment", "refund"]);
  });

  it("a refund of a payment we never recorded is ignored, nothing recorded", async () => {
    await paying();
    const response = await deliver(webhookEvent("refund.processed", { refund: refundEntity(newRazorpayId("pay")) }, T));
    expect(response.status).toBe(200);
    expect(await outcomeOf(response)).toBe("ignored");
    expect(await paymentRows()).toEqual([]);
  });
});
