import { eq } from "drizzle-orm";
import { memberships, payments, subscriptions, users, webhookReceipts, type SubscriptionRow } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { subscriptionNotes } from "@/lib/billing/razorpay";
import { randomId } from "@/lib/crypto/ids";
import { getControlDb } from "@/lib/db/store";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { request } from "./harness";
import { newRazorpayId, TEAM_PLAN, webhookEvent, webhookSignature, type FakeSubscription } from "./razorpay";

/**
 * Deliveries to POST /api/webhooks/razorpay signed exactly as Razorpay signs them (HMAC-SHA256,
 * hex, of the raw body with the webhook secret), and the rows they act on, inserted as our own
 * code would have made them when it created the subscription.
 */
export type DeliveryOptions = { id?: string; secret?: string; rawBody?: string; headers?: Record<string, string>; ip?: string };

export async function deliverRaw(raw: string, secret: string, options: DeliveryOptions = {}): Promise<Response> {
  const headers = {
    "content-type": "application/json",
    "x-razorpay-signature": webhookSignature(raw, options.secret ?? secret),
    "x-razorpay-event-id": options.id ?? newEventId(),
    ...options.headers,
  };
  return request("/api/webhooks/razorpay", { method: "POST", rawBody: options.rawBody ?? raw, headers, ip: options.ip });
}

/** Razorpay's event ids are opaque alphanumerics (X-Razorpay-Event-Id). */
export const newEventId = () => newRazorpayId("evt").replace("evt_", "Evt");

/** A workspace with its owner, made as the portal would (no tokens: the free plan allows one). */
export async function ownedWorkspace(): Promise<{ workspaceId: string; userId: string }> {
  const user = { id: randomId("usr"), email: `owner-${randomId("e")}@example.com`, passwordHash: "!unusable", createdAt: Date.now() };
  const control = await getControlDb();
  await control.db.insert(users).values(user);
  const workspace = await createWorkspace({ type: "user", userId: user.id }, "Paying team");
  return { workspaceId: workspace.id, userId: user.id };
}

/** Our row for a subscription we created (status `created` until Razorpay says more). */
export async function ourSubscriptionRow(owner: { workspaceId: string; userId: string }, fields: Partial<SubscriptionRow> = {}): Promise<SubscriptionRow> {
  const now = Date.now();
  const row = { id: newRazorpayId("sub"), ...owner, planId: "team", status: "created" as const, createdAt: now, updatedAt: now, ...fields };
  const control = await getControlDb();
  const [inserted] = await control.db.insert(subscriptions).values(row).returning();
  return inserted!;
}

/** The subscription entity Razorpay would send for our row, in `status`. */
export function entityFor(row: Pick<SubscriptionRow, "id" | "workspaceId" | "userId">, status: string, fields: Partial<FakeSubscription> = {}): Partial<FakeSubscription> & { id: string } {
  return { id: row.id, plan_id: TEAM_PLAN, status, current_end: 1_900_000_000, notes: subscriptionNotes(row.workspaceId, row.userId), ...fields };
}

export async function subscriptionRow(id: string): Promise<SubscriptionRow | undefined> {
  const control = await getControlDb();
  return (await control.db.select().from(subscriptions).where(eq(subscriptions.id, id)))[0];
}

export async function paymentRows() {
  const control = await getControlDb();
  return control.db.select().from(payments);
}

export async function receiptRows() {
  const control = await getControlDb();
  return control.db.select().from(webhookReceipts);
}

export async function auditRows(action: string) {
  const control = await getControlDb();
  return (await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, action))).map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

/** Everything a delivery could change (the audit trail apart), to compare before and after. */
export async function billingSnapshot(): Promise<string> {
  const control = await getControlDb();
  return JSON.stringify({
    subscriptions: await control.db.select().from(subscriptions),
    payments: await control.db.select().from(payments),
    receipts: await control.db.select().from(webhookReceipts),
    memberships: await control.db.select().from(memberships),
  });
}

export { webhookEvent };
