import { randomBytes } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { planInForce } from "@/lib/billing/subscriptions";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jsonOf } from "./harness";
import { auditRows, billingSnapshot, deliverRaw, entityFor, newEventId, ownedWorkspace, ourSubscriptionRow, receiptRows, subscriptionRow, type DeliveryOptions } from "./razorpay-deliveries";
import { billingEnv, BUSINESS_PLAN, razorpayKeys, startFakeRazorpay, webhookEvent, webhookSignature } from "./razorpay";
import { useTempStore } from "./store";

const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());
useTempStore(billingEnv(keys, fake.url));
beforeEach(() => resetRateLimits());

const deliver = (event: unknown, options: DeliveryOptions = {}) => deliverRaw(JSON.stringify(event), keys.webhookSecret, options);
const outcomeOf = async (response: Response) => (await jsonOf<{ outcome?: string }>(response)).outcome;
const T = 1_800_000_000;

async function paying() {
  const owner = await ownedWorkspace();
  const row = await ourSubscriptionRow(owner);
  return { ...owner, row };
}

describe("subscription events move our row and the plan in force", () => {
  it("activated puts the workspace on the paid plan; halted and cancelled put it back on free; each change audited", async () => {
    const { workspaceId, row } = await paying();
    expect((await planInForce(workspaceId)).id).toBe("free");

    const activated = await deliver(webhookEvent("subscription.activated", { subscription: entityFor(row, "active", { current_end: T + 30 * 86_400 }) }, T));
    expect(activated.status).toBe(200);
    expect(await jsonOf(activated)).toEqual({ received: true, outcome: "applied" });
    expect(await subscriptionRow(row.id)).toMatchObject({ status: "active", planId: "team", currentEnd: (T + 30 * 86_400) * 1000, eventAt: T * 1000, workspaceId, userId: row.userId });
    expect((await planInForce(workspaceId)).id).toBe("team");

    await deliver(webhookEvent("subscription.halted", { subscription: entityFor(row, "halted") }, T + 10));
    expect((await subscriptionRow(row.id))?.status).toBe("halted");
    expect((await planInForce(workspaceId)).id).toBe("free");

    await deliver(webhookEvent("subscription.charged", { subscription: entityFor(row, "active") }, T + 20));
    expect((await planInForce(workspaceId)).id).toBe("team");
    await deliver(webhookEvent("subscription.cancelled", { subscription: entityFor(row, "cancelled") }, T + 30));
    expect((await planInForce(workspaceId)).id).toBe("free");

    const moves = (await auditRows("billing.subscription_active")).concat(await auditRows("billing.subscription_halted"), await auditRows("billing.subscription_cancelled"));
    expect(moves.map((audit) => [audit.details.from, audit.details.to]).sort()).toEqual([["active", "cancelled"], ["active", "halted"], ["created", "active"], ["halted", "active"]].sort());
    expect(moves.every((audit) => audit.details.workspaceId === workspaceId && audit.details.subscriptionId === row.id && audit.actorType === "system")).toBe(true);
  });

  it("cancelled and completed clear cancel-at-period-end; an update to another configured plan moves the plan; an unknown Razorpay plan keeps ours", async () => {
    const { workspaceId, row } = await paying();
    await deliver(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T));
    await deliver(webhookEvent("subscription.updated", { subscription: entityFor(row, "active", { plan_id: BUSINESS_PLAN }) }, T + 1));
    expect((await planInForce(workspaceId)).id).toBe("business");
    expect((await auditRows("billing.subscription_active")).at(-1)?.details).toMatchObject({ planFrom: "team", planTo: "business" });
    await deliver(webhookEvent("subscription.updated", { subscription: entityFor(row, "active", { plan_id: "plan_NotInTheFile01" }) }, T + 2));
    expect((await subscriptionRow(row.id))?.planId).toBe("business");

    const ending = await ourSubscriptionRow(await ownedWorkspace(), { status: "active", cancelAtPeriodEnd: true });
    await deliver(webhookEvent("subscription.completed", { subscription: entityFor(ending, "completed") }, T));
    expect(await subscriptionRow(ending.id)).toMatchObject({ status: "completed", cancelAtPeriodEnd: false });
  });

  it("authenticated, pending, paused and resumed are taken as Razorpay states them", async () => {
    const { workspaceId, row } = await paying();
    for (const [i, [type, status, plan]] of ([
      ["subscription.authenticated", "authenticated", "team"],
      ["subscription.pending", "pending", "team"],
      ["subscription.paused", "paused", "free"],
      ["subscription.resumed", "active", "team"],
    ] as const).entries()) {
      expect(await outcomeOf(await deliver(webhookEvent(type, { subscription: entityFor(row, status) }, T + i)))).toBe("applied");
      expect((await subscriptionRow(row.id))?.status).toBe(status);
      expect((await planInForce(workspaceId)).id, type).toBe(plan);
    }
  });
});

describe("out of order, replayed and foreign deliveries change nothing", () => {
  it("a replayed event id is a 200 that changes nothing, and leaves one receipt", async () => {
    const { row } = await paying();
    const id = newEventId();
    await deliver(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T), { id });
    const before = await billingSnapshot();
    // Even a different, newer, correctly signed body under the same id: the receipt says it was handled.
    const replay = await deliver(webhookEvent("subscription.cancelled", { subscription: entityFor(row, "cancelled") }, T + 60), { id });
    expect(replay.status).toBe(200);
    expect(await outcomeOf(replay)).toBe("replay");
    expect(await billingSnapshot()).toBe(before);
    expect((await receiptRows()).filter((receipt) => receipt.eventId === id)).toHaveLength(1);
  });

  it("a captured delivery re-sent under a new event id (Razorpay signs the body, not the id) changes nothing once a newer one applied", async () => {
    const { workspaceId, row } = await paying();
    const activated = JSON.stringify(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T));
    await deliverRaw(activated, keys.webhookSecret);
    await deliver(webhookEvent("subscription.cancelled", { subscription: entityFor(row, "cancelled") }, T + 5));
    const before = JSON.parse(await billingSnapshot()) as { subscriptions: unknown };
    const resent = await deliverRaw(activated, keys.webhookSecret, { id: newEventId() });
    expect(await outcomeOf(resent)).toBe("ignored");
    expect((JSON.parse(await billingSnapshot()) as typeof before).subscriptions).toEqual(before.subscriptions);
    expect((await planInForce(workspaceId)).id).toBe("free");
  });

  it("cancelled at t2 then activated at t1: stays cancelled", async () => {
    const { workspaceId, row } = await paying();
    await deliver(webhookEvent("subscription.cancelled", { subscription: entityFor(row, "cancelled") }, T + 2));
    const late = await deliver(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T + 1));
    expect(late.status).toBe(200);
    expect(await outcomeOf(late)).toBe("ignored");
    expect(await subscriptionRow(row.id)).toMatchObject({ status: "cancelled", eventAt: (T + 2) * 1000 });
    expect((await planInForce(workspaceId)).id).toBe("free");
  });

  it("charged at t1 after halted at t2: stays halted", async () => {
    const { workspaceId, row } = await paying();
    await deliver(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T));
    await deliver(webhookEvent("subscription.halted", { subscription: entityFor(row, "halted") }, T + 2));
    expect(await outcomeOf(await deliver(webhookEvent("subscription.charged", { subscription: entityFor(row, "active") }, T + 1)))).toBe("ignored");
    expect((await subscriptionRow(row.id))?.status).toBe("halted");
    expect((await planInForce(workspaceId)).id).toBe("free");
  });

  it("a final status is never left for a non-final one, even at the same or a later timestamp", async () => {
    const { row } = await paying();
    await deliver(webhookEvent("subscription.cancelled", { subscription: entityFor(row, "cancelled") }, T));
    for (const at of [T, T + 100]) expect(await outcomeOf(await deliver(webhookEvent("subscription.resumed", { subscription: entityFor(row, "active") }, at)))).toBe("ignored");
    expect((await subscriptionRow(row.id))?.status).toBe("cancelled");
  });

  it("another workspace's subscription id (its notes name a different workspace) is ignored, audited, nothing changed", async () => {
    const victim = await paying();
    const attacker = await ownedWorkspace();
    const before = await billingSnapshot();
    // The victim's subscription id, with the attacker's workspace in its notes.
    const response = await deliver(webhookEvent("subscription.activated", { subscription: entityFor({ ...victim.row, workspaceId: attacker.workspaceId, userId: attacker.userId }, "active") }, T));
    expect(response.status).toBe(200);
    expect(await outcomeOf(response)).toBe("ignored");
    const after = JSON.parse(await billingSnapshot()) as { subscriptions: unknown; receipts: unknown[] };
    expect(after.subscriptions).toEqual((JSON.parse(before) as { subscriptions: unknown }).subscriptions);
    expect((await planInForce(attacker.workspaceId)).id).toBe("free");
    expect((await planInForce(victim.workspaceId)).id).toBe("free");
    const [audit] = await auditRows("billing.webhook_mismatch");
    expect(audit).toMatchObject({ target: victim.row.id, details: { workspaceId: victim.workspaceId, notedWorkspaceId: attacker.workspaceId } });
  });

  it("an unknown subscription id is ignored, logged and audited", async () => {
    const owner = await ownedWorkspace();
    const stranger = { id: "sub_NotOursAtAll01", ...owner };
    const before = JSON.parse(await billingSnapshot()) as { subscriptions: unknown };
    const response = await deliver(webhookEvent("subscription.activated", { subscription: entityFor(stranger, "active") }, T));
    expect(response.status).toBe(200);
    expect(await outcomeOf(response)).toBe("ignored");
    expect((JSON.parse(await billingSnapshot()) as { subscriptions: unknown }).subscriptions).toEqual(before.subscriptions);
    expect((await planInForce(owner.workspaceId)).id).toBe("free");
    expect(await auditRows("billing.webhook_unknown_subscription")).toMatchObject([{ target: stranger.id, details: { event: "subscription.activated" } }]);
  });

  it("unknown event types are a 200 that keeps only the receipt", async () => {
    const { row } = await paying();
    const before = JSON.parse(await billingSnapshot()) as { subscriptions: unknown; payments: unknown };
    for (const type of ["order.paid", "invoice.paid", "something.new"]) {
      const response = await deliver(webhookEvent(type, { subscription: entityFor(row, "active") }, T));
      expect(response.status).toBe(200);
      expect(await outcomeOf(response)).toBe("ignored");
    }
    const after = JSON.parse(await billingSnapshot()) as typeof before & { receipts: unknown[] };
    expect([after.subscriptions, after.payments]).toEqual([before.subscriptions, before.payments]);
    expect(after.receipts).toHaveLength(3);
  });
});

describe("forged, tampered and malformed deliveries are a 400 with an audit row, and change nothing", () => {
  const reasonsAudited = async () => (await auditRows("webhook.rejected")).map((row) => [row.target, row.details.reason]);

  it.each([
    ["a forged signature (64 hex digits, not the HMAC)", () => ({ headers: { "x-razorpay-signature": randomBytes(32).toString("hex") } }), "bad_signature"],
    ["a wrong webhook secret", () => ({ secret: randomBytes(16).toString("hex") }), "bad_signature"],
    ["the body changed by one byte after signing", (raw: string) => ({ rawBody: raw.replace('"active"', '"activf"') }), "bad_signature"],
    ["the signature in upper case", (raw: string) => ({ headers: { "x-razorpay-signature": webhookSignature(raw, keys.webhookSecret).toUpperCase() } }), "malformed_signature"],
    ["a signature one digit short", (raw: string) => ({ headers: { "x-razorpay-signature": webhookSignature(raw, keys.webhookSecret).slice(1) } }), "malformed_signature"],
    ["a signature of junk", () => ({ headers: { "x-razorpay-signature": "sha256=AAAA" } }), "malformed_signature"],
    ["no X-Razorpay-Signature", () => ({ headers: { "x-razorpay-signature": "" } }), "missing_headers"],
    ["no X-Razorpay-Event-Id", () => ({ headers: { "x-razorpay-event-id": "" } }), "missing_headers"],
    ["an event id that could pass for one of our own keys", () => ({ id: "version:pay_Abc123" }), "malformed_event_id"],
  ] as const)("%s", async (_name, forge, reason) => {
    const { row } = await paying();
    const raw = JSON.stringify(webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T));
    const before = await billingSnapshot();
    const response = await deliverRaw(raw, keys.webhookSecret, forge(raw));
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toMatchObject({ error: "webhook_rejected", message: expect.any(String) as unknown, requestId: expect.any(String) as unknown });
    expect(await billingSnapshot()).toBe(before);
    expect(await reasonsAudited()).toEqual([["razorpay", reason]]);
  });

  it("a body that is not JSON, or not an event, correctly signed, is a 400 and changes nothing", async () => {
    await paying();
    const before = await billingSnapshot();
    for (const raw of ['{"event": "subscription.activated", ', "[]", JSON.stringify({ event: "subscription.activated", created_at: "yesterday", payload: {} }), JSON.stringify({ event: "x", created_at: Date.now(), payload: {} })]) {
      const response = await deliverRaw(raw, keys.webhookSecret);
      expect(response.status, raw).toBe(400);
      expect((await jsonOf(response)).error).toBe("webhook_rejected");
    }
    expect(await billingSnapshot()).toBe(before);
    expect(await reasonsAudited()).toEqual(Array.from({ length: 4 }, () => ["razorpay", "malformed_event"]));
  });

  it("an oversized body is a 413, audited, before any of it is verified", async () => {
    const { row } = await paying();
    const before = await billingSnapshot();
    const response = await deliver({ ...webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T), pad: "x".repeat(300 * 1024) });
    expect(response.status).toBe(413);
    expect((await jsonOf(response)).error).toBe("webhook_rejected");
    expect(await billingSnapshot()).toBe(before);
    expect(await reasonsAudited()).toEqual([["razorpay", "oversized"]]);
  });

  it("a flood of forgeries from one IP is audited within the budget, not one row each", async () => {
    const { row } = await paying();
    const event = webhookEvent("subscription.activated", { subscription: entityFor(row, "active") }, T);
    for (let i = 0; i < 100; i++) expect((await deliver(event, { secret: randomBytes(16).toString("hex"), ip: "203.0.113.7" })).status).toBe(400);
    const rows = await auditRows("webhook.rejected");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(60);
    expect((await subscriptionRow(row.id))?.status).toBe("created");
  });
});

describe("with billing off", () => {
  useTempStore();
  it("the webhook endpoint does not exist (404), even for a delivery signed with the secret billing would use", async () => {
    const response = await deliver(webhookEvent("subscription.activated", { subscription: { id: "sub_Whatever0001", status: "active", plan_id: "plan_X" } }, T));
    expect(response.status).toBe(404);
    expect(await receiptRows()).toEqual([]);
  });
});
