import { randomBytes } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { payments, subscriptions } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { resolveTeamToken } from "@/lib/access/bearer";
import { controlAuditLog } from "@/lib/audit/audit";
import { planInForce } from "@/lib/billing/subscriptions";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { consentDecisionSchema } from "@/lib/oauth/consent";
import { isOAuthScope } from "@/lib/oauth/resource";
import { sessionCookieForUser, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { billingEnv, checkoutSignature, newRazorpayId, razorpayKeys, startFakeRazorpay, TEAM_PLAN, writePlansFile } from "./razorpay";
import { useTempStore } from "./store";

const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());

const billing = (workspaceId: string, rest = "") => `/api/workspaces/${workspaceId}/billing${rest}`;

/** Every billing endpoint, each with a body that would pass its schema. */
const endpoints = (workspaceId: string) => [
  { method: "GET", path: billing(workspaceId) },
  { method: "POST", path: billing(workspaceId, "/subscribe"), body: { planId: "team" } },
  { method: "POST", path: billing(workspaceId, "/verify"), body: { razorpay_payment_id: newRazorpayId("pay"), razorpay_subscription_id: newRazorpayId("sub"), razorpay_signature: randomBytes(32).toString("hex") } },
  { method: "POST", path: billing(workspaceId, "/cancel") },
  { method: "POST", path: billing(workspaceId, "/resume") },
];

async function refusal(response: Response) {
  return { status: response.status, error: (await jsonOf(response)).error };
}

const subscribe = (workspaceId: string, cookie: string, planId = "team") => request(billing(workspaceId, "/subscribe"), { cookie, body: { planId } });
const verify = (workspaceId: string, cookie: string, body: Record<string, string>) => request(billing(workspaceId, "/verify"), { cookie, body });
const post = (workspaceId: string, cookie: string, action: "cancel" | "resume") => request(billing(workspaceId, `/${action}`), { cookie, method: "POST" });

/** Checkout's answer for `subscriptionId`, signed as Razorpay signs it (or with `secret`). */
function paid(subscriptionId: string, secret = keys.keySecret) {
  const paymentId = newRazorpayId("pay");
  return { razorpay_payment_id: paymentId, razorpay_subscription_id: subscriptionId, razorpay_signature: checkoutSignature(paymentId, subscriptionId, secret) };
}

async function rows(workspaceId?: string) {
  const { db } = await getControlDb();
  const query = db.select().from(subscriptions);
  return (workspaceId ? query.where(eq(subscriptions.workspaceId, workspaceId)) : query).orderBy(asc(subscriptions.createdAt));
}

async function audited(action: string) {
  const { db } = await getControlDb();
  return db.select().from(controlAuditLog).where(eq(controlAuditLog.action, action));
}

async function owned() {
  const ws = await workspaceWithTokens();
  return { ...ws, cookie: await sessionCookieForUser(ws.owner.id) };
}

/** An owner who subscribed to Team and paid for it in Checkout. */
async function subscribed() {
  const ws = await owned();
  const started = await jsonOf<{ subscriptionId: string }>(await subscribe(ws.workspaceId, ws.cookie));
  expect((await verify(ws.workspaceId, ws.cookie, paid(started.subscriptionId))).status).toBe(200);
  return { ...ws, subscriptionId: started.subscriptionId };
}

describe("billing on", () => {
  // Room for the tokens and members the refusal tests set up: limits are billing-limits.test.ts's subject, not this file's.
  useTempStore(billingEnv(keys, fake.url, writePlansFile({ members: 10, teamTokens: 10, aiClients: 10, storageMb: 50 })));
  beforeEach(() => {
    resetRateLimits();
    fake.requests.length = 0;
  });

  it("a viewer, member or admin of the workspace is refused every billing endpoint (403 insufficient_scope), an outsider gets 404, a team token 401; nothing reaches Razorpay", async () => {
    const ws = await owned();
    for (const role of ["viewer", "member", "admin"] as const) {
      const { cookie } = await userInWorkspace(ws.workspaceId, role);
      for (const endpoint of endpoints(ws.workspaceId)) {
        expect(await refusal(await request(endpoint.path, { cookie, method: endpoint.method, body: endpoint.body })), `${role} ${endpoint.path}`).toEqual({ status: 403, error: "insufficient_scope" });
      }
    }
    const outsider = await userInWorkspace(ws.workspaceId, null);
    for (const endpoint of endpoints(ws.workspaceId)) {
      expect(await refusal(await request(endpoint.path, { cookie: outsider.cookie, method: endpoint.method, body: endpoint.body }))).toEqual({ status: 404, error: "not_found" });
      // The portal's billing endpoints take a session only: an admin token is nobody there.
      expect(await refusal(await request(endpoint.path, { token: ws.admin, method: endpoint.method, body: endpoint.body, headers: { origin: "http://localhost:3000" } }))).toEqual({ status: 401, error: "unauthenticated" });
    }
    expect(fake.requests).toEqual([]);
    expect(await rows()).toEqual([]);
  });

  it("no team token and no AI client can ever hold `billing`: the owner cannot issue one with it, an admin token is refused it by authorize(), OAuth does not offer it", async () => {
    const ws = await owned();
    const issued = await request(workspacePath(ws.workspaceId, "/tokens"), { cookie: ws.cookie, body: { name: "billing", scopes: ["billing"] } });
    expect(await refusal(issued)).toEqual({ status: 403, error: "scope_exceeds_role" });
    const token = await resolveTeamToken(ws.admin);
    expect(token?.scopes).toEqual(expect.arrayContaining(["members", "tokens", "audit"]));
    await expect(authorize(token!, ws.workspaceId, "billing")).rejects.toMatchObject({ status: 403, code: "insufficient_scope" });
    expect(isOAuthScope("billing")).toBe(false);
    expect(consentDecisionSchema.safeParse({ scopes: ["billing"] }).success).toBe(false);
  });

  it("the owner subscribes: the SDK's POST carries the workspace in its notes, the row is `created`, and a correctly signed Checkout answer makes it authenticated and the plan Team", async () => {
    const ws = await owned();
    const response = await subscribe(ws.workspaceId, ws.cookie);
    expect(response.status).toBe(201);
    const started = await jsonOf<{ subscriptionId: string; keyId: string; planName: string; workspaceName: string }>(response);
    expect(started).toMatchObject({ keyId: keys.keyId, planName: "Team", workspaceName: "Team" });
    const call = fake.requests.find((entry) => entry.method === "POST" && entry.path === "/v1/subscriptions");
    expect(call?.body).toMatchObject({ plan_id: TEAM_PLAN, total_count: 120, notes: { workspace_id: ws.workspaceId, user_id: ws.owner.id } });
    expect(await rows(ws.workspaceId)).toMatchObject([{ id: started.subscriptionId, userId: ws.owner.id, planId: "team", status: "created", cancelAtPeriodEnd: false }]);
    expect((await planInForce(ws.workspaceId)).id).toBe("free");
    expect(await audited("billing.subscription_created")).toHaveLength(1);

    const verified = await verify(ws.workspaceId, ws.cookie, paid(started.subscriptionId));
    expect(verified.status).toBe(200);
    expect(await jsonOf(verified)).toMatchObject({ id: started.subscriptionId, status: "authenticated" });
    expect((await planInForce(ws.workspaceId)).id).toBe("team");
    expect(await audited("billing.checkout_verified")).toHaveLength(1);

    const overview = await jsonOf<{ plan: { id: string }; limits: { name: string; allowed: number | null; used: number }[]; subscription: { status: string }; payments: unknown[] }>(
      await request(billing(ws.workspaceId), { cookie: ws.cookie }),
    );
    expect(overview.plan.id).toBe("team");
    expect(overview.limits.find((limit) => limit.name === "members")).toEqual({ name: "members", label: "Members", allowed: 10, used: 1 });
    expect(overview.limits.find((limit) => limit.name === "teamTokens")?.used).toBe(3);
    expect(overview.subscription.status).toBe("authenticated");
    expect(overview.payments).toEqual([]);
  });

  it("a forged signature, one made with another secret, and a correct one for another workspace's subscription are refused; nothing changes", async () => {
    const ws = await owned();
    const other = await owned();
    const mine = await jsonOf<{ subscriptionId: string }>(await subscribe(ws.workspaceId, ws.cookie));
    const theirs = await jsonOf<{ subscriptionId: string }>(await subscribe(other.workspaceId, other.cookie));
    const before = await rows();

    const forged = { ...paid(mine.subscriptionId), razorpay_signature: randomBytes(32).toString("hex") };
    expect(await refusal(await verify(ws.workspaceId, ws.cookie, forged))).toEqual({ status: 400, error: "bad_signature" });
    expect(await refusal(await verify(ws.workspaceId, ws.cookie, paid(mine.subscriptionId, keys.webhookSecret)))).toEqual({ status: 400, error: "bad_signature" });
    // Signed for another subscription id than the one it names.
    const swapped = { ...paid(theirs.subscriptionId), razorpay_subscription_id: mine.subscriptionId };
    expect(await refusal(await verify(ws.workspaceId, ws.cookie, swapped))).toEqual({ status: 400, error: "bad_signature" });
    // A genuine answer, but for the other workspace's subscription: not this workspace's to verify.
    expect(await refusal(await verify(ws.workspaceId, ws.cookie, paid(theirs.subscriptionId)))).toEqual({ status: 404, error: "not_found" });
    // Malformed answers never reach the check.
    for (const bad of [{ ...forged, razorpay_signature: "ZZ" }, { ...forged, extra: "x" }, { razorpay_payment_id: "pay_x" }, { ...forged, razorpay_subscription_id: "sub_../x" }]) {
      expect((await verify(ws.workspaceId, ws.cookie, bad as Record<string, string>)).status).toBe(400);
    }
    expect(await rows()).toEqual(before);
    expect((await planInForce(ws.workspaceId)).id).toBe("free");
    expect((await planInForce(other.workspaceId)).id).toBe("free");
    const rejected = await audited("billing.checkout_rejected");
    expect(rejected.map((row) => (JSON.parse(row.details) as { reason: string }).reason)).toEqual(["bad_signature", "bad_signature", "bad_signature", "not_this_workspace"]);
    expect(rejected.every((row) => !row.details.includes(forged.razorpay_signature))).toBe(true);
  });

  it("subscribing: the free plan is 400, an unknown plan 404, a second click hands back the same subscription, and a paid workspace is 409", async () => {
    const ws = await owned();
    expect(await refusal(await subscribe(ws.workspaceId, ws.cookie, "free"))).toEqual({ status: 400, error: "not_a_paid_plan" });
    expect(await refusal(await subscribe(ws.workspaceId, ws.cookie, "platinum"))).toEqual({ status: 404, error: "no_such_plan" });
    expect((await subscribe(ws.workspaceId, ws.cookie, "Team!")).status).toBe(400);
    expect(fake.requests).toEqual([]);
    const first = await jsonOf<{ subscriptionId: string }>(await subscribe(ws.workspaceId, ws.cookie));
    const again = await jsonOf<{ subscriptionId: string }>(await subscribe(ws.workspaceId, ws.cookie));
    expect(again.subscriptionId).toBe(first.subscriptionId);
    expect(fake.requests.filter((entry) => entry.path === "/v1/subscriptions")).toHaveLength(1);
    expect((await verify(ws.workspaceId, ws.cookie, paid(first.subscriptionId))).status).toBe(200);
    expect(await refusal(await subscribe(ws.workspaceId, ws.cookie, "business"))).toEqual({ status: 409, error: "already_subscribed" });
    expect(await rows(ws.workspaceId)).toHaveLength(1);
  });

  it("cancel at period end schedules it at Razorpay and on the row; resume clears both; either with nothing to do is 409", async () => {
    const ws = await owned();
    expect(await refusal(await post(ws.workspaceId, ws.cookie, "cancel"))).toEqual({ status: 409, error: "no_subscription" });
    expect(await refusal(await post(ws.workspaceId, ws.cookie, "resume"))).toEqual({ status: 409, error: "nothing_to_resume" });
    const sub = await subscribed();

    const cancelled = await post(sub.workspaceId, sub.cookie, "cancel");
    expect(cancelled.status).toBe(200);
    expect(await jsonOf(cancelled)).toMatchObject({ id: sub.subscriptionId, cancelAtPeriodEnd: true });
    expect(fake.subscriptions.get(sub.subscriptionId)?.has_scheduled_changes).toBe(true);
    expect((await rows(sub.workspaceId))[0]).toMatchObject({ cancelAtPeriodEnd: true, status: "authenticated" });
    // Still paid for until the period ends.
    expect((await planInForce(sub.workspaceId)).id).toBe("team");
    expect(await refusal(await post(sub.workspaceId, sub.cookie, "cancel"))).toEqual({ status: 409, error: "already_cancelling" });

    const resumed = await post(sub.workspaceId, sub.cookie, "resume");
    expect(resumed.status).toBe(200);
    expect(fake.subscriptions.get(sub.subscriptionId)?.has_scheduled_changes).toBe(false);
    expect((await rows(sub.workspaceId))[0]?.cancelAtPeriodEnd).toBe(false);
    expect(await refusal(await post(sub.workspaceId, sub.cookie, "resume"))).toEqual({ status: 409, error: "nothing_to_resume" });
    expect(await audited("billing.cancel_scheduled")).toHaveLength(1);
    expect(await audited("billing.subscription_resumed")).toHaveLength(1);
  });

  it("a verified answer never undoes a webhook that already moved the subscription on", async () => {
    const ws = await owned();
    const started = await jsonOf<{ subscriptionId: string }>(await subscribe(ws.workspaceId, ws.cookie));
    const { db } = await getControlDb();
    await db.update(subscriptions).set({ status: "active", eventAt: 1 }).where(eq(subscriptions.id, started.subscriptionId));
    const verified = await verify(ws.workspaceId, ws.cookie, paid(started.subscriptionId));
    expect(verified.status).toBe(200);
    expect(await jsonOf(verified)).toMatchObject({ status: "active" });
    expect((await rows(ws.workspaceId))[0]).toMatchObject({ status: "active", eventAt: 1 });
  });

  it("the overview lists this workspace's payments and refunds, newest first, and no other workspace's", async () => {
    const ws = await owned();
    const other = await owned();
    const { db } = await getControlDb();
    const payment = (workspaceId: string, userId: string, kind: "payment" | "refund", occurredAt: number) => ({
      id: newRazorpayId(kind === "payment" ? "pay" : "rfnd"),
      kind,
      workspaceId,
      userId,
      subscriptionId: null,
      paymentId: null,
      invoiceId: kind === "payment" ? newRazorpayId("inv") : null,
      amount: 49900,
      currency: "INR",
      status: kind === "payment" ? "captured" : "processed",
      occurredAt,
      recordedAt: occurredAt,
    });
    const mine = [payment(ws.workspaceId, ws.owner.id, "payment", 1000), payment(ws.workspaceId, ws.owner.id, "refund", 2000)];
    await db.insert(payments).values([...mine, payment(other.workspaceId, other.owner.id, "payment", 1500)]);
    const overview = await jsonOf<{ payments: { id: string; kind: string }[] }>(await request(billing(ws.workspaceId), { cookie: ws.cookie }));
    expect(overview.payments.map((row) => row.id)).toEqual([mine[1]!.id, mine[0]!.id]);
    expect(JSON.stringify(overview)).not.toContain(ws.owner.id);
  });

  it("Razorpay failing is a 502 and changes nothing: no row on subscribe, no flag on cancel or resume", async () => {
    const ws = await owned();
    fake.failNext(1, 500);
    expect(await refusal(await subscribe(ws.workspaceId, ws.cookie))).toEqual({ status: 502, error: "billing_unavailable" });
    expect(await rows(ws.workspaceId)).toEqual([]);
    expect(await audited("billing.subscription_created")).toEqual([]);

    const sub = await subscribed();
    const before = await rows(sub.workspaceId);
    fake.failNext(1, 503);
    expect(await refusal(await post(sub.workspaceId, sub.cookie, "cancel"))).toEqual({ status: 502, error: "billing_unavailable" });
    expect(await rows(sub.workspaceId)).toEqual(before);
    expect(fake.subscriptions.get(sub.subscriptionId)?.has_scheduled_changes).toBe(false);

    expect((await post(sub.workspaceId, sub.cookie, "cancel")).status).toBe(200);
    const cancelling = await rows(sub.workspaceId);
    fake.failNext(1, 500);
    expect(await refusal(await post(sub.workspaceId, sub.cookie, "resume"))).toEqual({ status: 502, error: "billing_unavailable" });
    expect(await rows(sub.workspaceId)).toEqual(cancelling);
  });
});

describe("billing off", () => {
  useTempStore();
  beforeEach(() => {
    resetRateLimits();
    fake.requests.length = 0;
  });

  it("every billing endpoint is a 404, even to the owner", async () => {
    const ws = await owned();
    for (const endpoint of endpoints(ws.workspaceId)) {
      expect(await refusal(await request(endpoint.path, { cookie: ws.cookie, method: endpoint.method, body: endpoint.body })), endpoint.path).toEqual({ status: 404, error: "not_found" });
    }
    expect(fake.requests).toEqual([]);
  });
});
