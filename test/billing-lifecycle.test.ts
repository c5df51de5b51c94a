import { eq } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { payments, subscriptions, users, workspaces } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { razorpayClient } from "@/lib/billing/razorpay";
import { closeAccount } from "@/lib/lifecycle/closure";
import { purgeClosedAccounts } from "@/lib/lifecycle/purge";
import { getConfig } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jobs } from "@/lib/jobs/jobs";
import { runJob } from "@/lib/jobs/runner";
import { operatorStatus } from "@/lib/operator/status";
import { sessionCookieForUser } from "./api";
import { ORIGIN, request } from "./harness";
import { addMembership, ownedWorkspace, person } from "./lifecycle";
import { billingEnv, newRazorpayId, razorpayKeys, startFakeRazorpay, TEAM_PLAN, webhookEvent } from "./razorpay";
import { deliverRaw, entityFor } from "./razorpay-deliveries";
import { useTempStore } from "./store";
import { readZip } from "./zip";

const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());
useTempStore(billingEnv(keys, fake.url));
beforeEach(() => resetRateLimits());

const cancellationJob = jobs.find((job) => job.name === "billing-cancellations")!;

/** A subscription as Checkout leaves it: created at (fake) Razorpay through the SDK, active, and ours. */
async function paidSubscription(workspaceId: string, userId: string): Promise<string> {
  const created = await razorpayClient(getConfig().billing!).subscriptions.create({ plan_id: TEAM_PLAN, total_count: 12, notes: { workspace_id: workspaceId, user_id: userId } });
  fake.subscriptions.get(created.id)!.status = "active";
  const control = await getControlDb();
  const now = Date.now();
  await control.db.insert(subscriptions).values({ id: created.id, workspaceId, userId, planId: "team", status: "active", createdAt: now, updatedAt: now });
  return created.id;
}

async function subscriptionRow(id: string) {
  const control = await getControlDb();
  const [row] = await control.db.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row!;
}

const cancelCalls = (id: string) => fake.requests.filter((call) => call.method === "POST" && call.path === `/v1/subscriptions/${id}/cancel`);

async function deleteThroughPortal(userId: string, workspaceId: string, name: string) {
  const cookie = await sessionCookieForUser(userId);
  return request(`/api/workspaces/${workspaceId}`, { method: "DELETE", cookie, body: { confirmName: name }, headers: { origin: ORIGIN } });
}

async function recordPayment(workspaceId: string, userId: string, subscriptionId: string) {
  const control = await getControlDb();
  const id = newRazorpayId("pay");
  await control.db.insert(payments).values({ id, kind: "payment", workspaceId, userId, subscriptionId, amount: 49900, currency: "INR", status: "captured", occurredAt: Date.now(), recordedAt: Date.now() });
  return id;
}

describe("deleting a workspace cancels its subscription at Razorpay", () => {
  it("cancels at once (not at the period's end) through the SDK, in the same request, and says so in the audit", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Paid");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    expect((await deleteThroughPortal(user.id, workspaceId, "Paid")).status).toBe(200);
    expect(cancelCalls(subscriptionId)).toHaveLength(1);
    expect(cancelCalls(subscriptionId)[0]!.body).not.toMatchObject({ cancel_at_cycle_end: 1 });
    expect(fake.subscriptions.get(subscriptionId)!.status).toBe("cancelled");
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "cancelled", cancelOwedSince: null, cancelError: null });
    const control = await getControlDb();
    const audit = await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.target, subscriptionId));
    expect(audit.map((row) => row.action)).toEqual(["billing.cancellation_owed", "billing.subscription_cancelled"]);
  });

  it("Razorpay down: the deletion still happens, the cancellation stays owed, the job fails until Razorpay says yes, and the operator sees it", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Outage");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    fake.failNext(2); // the cancel, and the fetch that would tell whether it had already ended
    expect((await deleteThroughPortal(user.id, workspaceId, "Outage")).status).toBe(200);
    const control = await getControlDb();
    const [workspace] = await control.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
    expect(workspace!.deletedAt).not.toBeNull();
    const owed = await subscriptionRow(subscriptionId);
    expect(owed.cancelOwedSince).not.toBeNull();
    expect(owed.cancelAttempts).toBe(1);
    expect(owed.cancelError).toMatch(/HTTP 500/);
    expect((await operatorStatus()).billing).toMatchObject({ cancellationsOwed: 1, lastError: expect.stringMatching(/HTTP 500/) as string });

    fake.failNext(2);
    const failing = await runJob(cancellationJob, "cli");
    expect(failing.outcome).toBe("failed");
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ cancelAttempts: 2 });

    const recovered = await runJob(cancellationJob, "cli");
    expect(recovered).toMatchObject({ outcome: "ok", figures: { settled: 1, failed: 0, stillOwed: 0 } });
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "cancelled", cancelOwedSince: null });
    expect(fake.subscriptions.get(subscriptionId)!.status).toBe("cancelled");
    expect((await operatorStatus()).billing).toMatchObject({ cancellationsOwed: 0, lastError: null });
  });

  it("a signed subscription.cancelled webhook settles a cancellation still owed: Razorpay has said it ended", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Settled by webhook");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    fake.failNext(2);
    expect((await deleteThroughPortal(user.id, workspaceId, "Settled by webhook")).status).toBe(200);
    expect((await subscriptionRow(subscriptionId)).cancelOwedSince).not.toBeNull();
    const event = JSON.stringify(webhookEvent("subscription.cancelled", { subscription: entityFor({ id: subscriptionId, workspaceId, userId: user.id }, "cancelled") }));
    expect((await deliverRaw(event, keys.webhookSecret)).status).toBe(200);
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "cancelled", cancelOwedSince: null, cancelError: null });
    expect((await operatorStatus()).billing).toMatchObject({ cancellationsOwed: 0 });
  });

  it("a subscription already ended at Razorpay (cancelled in its dashboard) settles the duty: the SDK's fetch says so", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Ended");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    fake.subscriptions.get(subscriptionId)!.status = "cancelled";
    expect((await deleteThroughPortal(user.id, workspaceId, "Ended")).status).toBe(200);
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "cancelled", cancelOwedSince: null });
  });

  it("a subscription that has ended owes nothing: no call to Razorpay", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Old");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    const control = await getControlDb();
    await control.db.update(subscriptions).set({ status: "completed" }).where(eq(subscriptions.id, subscriptionId));
    expect((await deleteThroughPortal(user.id, workspaceId, "Old")).status).toBe(200);
    expect(cancelCalls(subscriptionId)).toHaveLength(0);
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: "completed", cancelOwedSince: null });
  });
});

describe("closing an account", () => {
  it("cancels what the account pays for: its own workspaces' subscriptions and one in a workspace that stays with another owner", async () => {
    const { user } = await person();
    const { user: partner } = await person();
    const alone = await ownedWorkspace(user.id, "Alone");
    const shared = await ownedWorkspace(partner.id, "Shared");
    await addMembership(shared, user.id, "owner");
    const aloneSub = await paidSubscription(alone, user.id);
    const sharedSub = await paidSubscription(shared, user.id);
    const partnersSub = await paidSubscription(await ownedWorkspace(partner.id, "Partner's"), partner.id);
    await closeAccount(user.id, { type: "user", id: user.id });
    expect(await subscriptionRow(aloneSub)).toMatchObject({ status: "cancelled", cancelOwedSince: null });
    expect(await subscriptionRow(sharedSub)).toMatchObject({ status: "cancelled", cancelOwedSince: null });
    expect(await subscriptionRow(partnersSub)).toMatchObject({ status: "active", cancelOwedSince: null });
    expect(cancelCalls(partnersSub)).toHaveLength(0);
  });

  it("the purge keeps every payment and subscription row, linked to the tombstone's id, and the export lists them", async () => {
    const { user } = await person();
    const workspaceId = await ownedWorkspace(user.id, "Ledger");
    const subscriptionId = await paidSubscription(workspaceId, user.id);
    const paymentId = await recordPayment(workspaceId, user.id, subscriptionId);

    const cookie = await sessionCookieForUser(user.id);
    expect((await request("/api/account/reauth", { cookie, body: { password: "correct horse battery" }, headers: { origin: ORIGIN } })).status).toBe(200);
    const exported = await request("/api/account/export", { cookie, headers: { origin: "" } });
    expect(exported.status).toBe(200);
    const files = await readZip(Buffer.from(await exported.arrayBuffer()));
    const billing = JSON.parse(files.get("billing.json")!.toString("utf8")) as { subscriptions: { id: string }[]; payments: { id: string; amount: number }[] };
    expect(billing.subscriptions.map((row) => row.id)).toEqual([subscriptionId]);
    expect(billing.payments).toEqual([expect.objectContaining({ id: paymentId, amount: 49900, workspaceId })]);
    expect(files.get("README.txt")?.toString("utf8") ?? "").toMatch(/billing\.json/);

    await closeAccount(user.id, { type: "user", id: user.id }, { holdDays: 0 });
    await purgeClosedAccounts(Date.now() + 1);
    const control = await getControlDb();
    const [tombstone] = await control.db.select().from(users).where(eq(users.id, user.id));
    expect(tombstone!.closedAt).not.toBeNull();
    expect(await control.db.select().from(workspaces).where(eq(workspaces.id, workspaceId))).toEqual([]);
    expect(await control.db.select().from(payments).where(eq(payments.userId, user.id))).toEqual([expect.objectContaining({ id: paymentId, workspaceId, subscriptionId })]);
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ userId: user.id, workspaceId, status: "cancelled" });
  });
});

describe("the operator's view", () => {
  it("/api/operator/status carries billing figures, and the job table has the retrying job", async () => {
    expect((await operatorStatus()).billing).toEqual({ cancellationsOwed: 0, oldestOwedSince: null, lastError: null });
    expect(cancellationJob.everyMinutes).toBe(15);
  });
});
