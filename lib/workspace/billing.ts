import { and, eq } from "drizzle-orm";
import { validatePaymentVerification } from "razorpay/dist/utils/razorpay-utils.js";
import { z } from "zod";
import { subscriptions, type SubscriptionRow } from "@/db/control/schema";
import { authorize, type WorkspaceAccess } from "../access/authorize";
import { auditControlTx, auditWorkspace, type AuditEntry } from "../audit/audit";
import { getConfig, type BillingConfig } from "../config";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { getWorkspaceForMember } from "./workspaces";
import { LIMIT_NOUNS, workspaceUsage } from "../billing/limits";
import { listWorkspacePayments, type PaymentRecord } from "../billing/payments";
import { formatPrice, type LimitName, type Plan } from "../billing/plans";
import { callRazorpay, razorpayClient, subscriptionEntitySchema, subscriptionNotes, type SubscriptionEntity } from "../billing/razorpay";
import { billingPlans, isFinal, latestSubscription, paidSubscription, planById, planInForce } from "../billing/subscriptions";

/**
 * The owner's side of billing: subscribe (the server creates the Razorpay subscription, the
 * browser pays for it in Checkout), verify Checkout's answer, cancel at the end of the period,
 * resume before it ends, and the Billing page's overview. Every function takes the proof that
 * authorize() let this principal use scope `billing` (owners only; no team token or AI client
 * can hold it) and reads and writes only this workspace's subscription rows: a subscription id
 * from the browser is looked up together with the workspace, never on its own.
 *
 * What Checkout hands back is only believed once Razorpay's signature over
 * `payment_id|subscription_id` (HMAC-SHA256 with the key secret) checks out with the SDK's own
 * validatePaymentVerification; until then nothing changes. Webhooks (lib/webhooks/razorpay.ts)
 * refine the status afterwards, ordered by their own timestamps.
 */

/** A `created` subscription younger than this, for the same plan, is handed back instead of creating another on a second click. */
export const REUSE_CREATED_MS = 60 * 60 * 1000;

export const subscribeSchema = z.strictObject({
  planId: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "Choose one of the plans."),
});

export const verifyCheckoutSchema = z.strictObject({
  razorpay_payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,40}$/, "Not a Razorpay payment id."),
  razorpay_subscription_id: z.string().regex(/^sub_[A-Za-z0-9]{1,40}$/, "Not a Razorpay subscription id."),
  razorpay_signature: z.string().regex(/^[0-9a-f]{64}$/, "Not a Razorpay signature."),
});
export type CheckoutAnswer = z.infer<typeof verifyCheckoutSchema>;

/** What the page needs to open Checkout for the subscription just created. */
export type CheckoutStart = { subscriptionId: string; keyId: string; planName: string; workspaceName: string | null };

export type SubscriptionSummary = Pick<SubscriptionRow, "id" | "planId" | "status" | "currentEnd" | "cancelAtPeriodEnd" | "createdAt">;

export type BillingOverview = {
  plan: PlanSummary;
  plans: PlanSummary[];
  limits: { name: LimitName; label: string; allowed: number | null; used: number }[];
  subscription: SubscriptionSummary | null;
  payments: PaymentRecord[];
};

export type PlanSummary = { id: string; name: string; price: string; paid: boolean };

/** Billing switched off: the endpoints and the page do not exist. */
export function requireBilling(): BillingConfig {
  const billing = getConfig().billing;
  if (!billing) throw notFound("Billing is not switched on for this Enclave.");
  return billing;
}

/**
 * The route handlers' check: billing on (else 404, before anything is looked up), then
 * authorize() for scope `billing`: 404 for a workspace the person cannot see, 403
 * insufficient_scope for a viewer, member or admin of it.
 */
export async function authorizeBilling(userId: string, workspaceId: string, attempted: string): Promise<WorkspaceAccess<"billing">> {
  requireBilling();
  return authorize({ kind: "user", userId }, workspaceId, "billing", attempted);
}

/** Billing is a person's act, as the workspace's owner: said again here, where the act needs their id. */
function billingOwner(access: WorkspaceAccess<"billing">): string {
  if (access.principal.kind !== "user" || access.role !== "owner") {
    throw new HttpError(403, "owner_only", "Only an owner of the workspace can manage billing, signed in to the portal.");
  }
  return access.principal.userId;
}

const summary = (row: SubscriptionRow): SubscriptionSummary => ({
  id: row.id,
  planId: row.planId,
  status: row.status,
  currentEnd: row.currentEnd,
  cancelAtPeriodEnd: row.cancelAtPeriodEnd,
  createdAt: row.createdAt,
});

const planSummary = (plan: Plan): PlanSummary => ({ id: plan.id, name: plan.name, price: formatPrice(plan.price), paid: plan.razorpayPlanId !== null });

/** Razorpay's times are seconds; ours are ms. */
const msOf = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? null : seconds * 1000);

/** One billing act in both trails: control.db's inside the caller's transaction, the workspace's after it. */
async function auditBoth(access: WorkspaceAccess<"billing">, entry: Omit<AuditEntry, "actor" | "target">, write: (tx: Parameters<typeof auditControlTx>[0]) => Promise<void> = async () => {}) {
  const full: AuditEntry = { ...entry, actor: access.actor, target: access.workspaceId };
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    await write(tx);
    await auditControlTx(tx, full);
  });
  await auditWorkspace(access.workspaceId, full);
}

export async function startSubscription(access: WorkspaceAccess<"billing">, planId: string): Promise<CheckoutStart> {
  const billing = requireBilling();
  const userId = billingOwner(access);
  const { workspaceId } = access;
  const plan = planById(planId);
  if (!plan) throw new HttpError(404, "no_such_plan", "There is no such plan here.");
  if (!plan.razorpayPlanId) throw new HttpError(400, "not_a_paid_plan", `The ${plan.name} plan needs no subscription: it applies whenever none is paid for.`);
  const workspaceName = (await getWorkspaceForMember(userId, workspaceId))?.name ?? null;
  if (await paidSubscription(workspaceId)) {
    throw new HttpError(409, "already_subscribed", "This workspace already has a paid subscription. Cancel it, and subscribe again once its period has ended.");
  }
  const latest = await latestSubscription(workspaceId);
  // A second click (or a closed Checkout opened again) pays for the subscription already made, not a new one.
  if (latest && latest.status === "created" && latest.planId === plan.id && Date.now() - latest.createdAt < REUSE_CREATED_MS) {
    return { subscriptionId: latest.id, keyId: billing.keyId, planName: plan.name, workspaceName };
  }
  const razorpayPlanId = plan.razorpayPlanId;
  const created = await callRazorpay("subscriptions.create", () =>
    razorpayClient(billing).subscriptions.create({ plan_id: razorpayPlanId, total_count: plan.totalCount, customer_notify: 1, notes: subscriptionNotes(workspaceId, userId) }),
  );
  const entity = parseEntity(created);
  const now = Date.now();
  await auditBoth(access, { action: "billing.subscription_created", details: { subscriptionId: entity.id, planId: plan.id } }, async (tx) => {
    await tx.insert(subscriptions).values({ id: entity.id, workspaceId, userId, planId: plan.id, status: entity.status, currentEnd: msOf(entity.current_end), createdAt: now, updatedAt: now });
  });
  return { subscriptionId: entity.id, keyId: billing.keyId, planName: plan.name, workspaceName };
}

/** Razorpay answered, but not with a subscription we can use: as good as no answer, and nothing is stored. */
function parseEntity(answer: unknown): SubscriptionEntity {
  const parsed = subscriptionEntitySchema.safeParse(answer);
  if (!parsed.success) throw new HttpError(502, "billing_unavailable", "Razorpay answered with something that is not a subscription; nothing was changed. Try again in a minute.");
  return parsed.data;
}

/** This workspace's subscription with that id, or a 404 — the same for another workspace's id as for a made-up one. */
async function ownSubscription(workspaceId: string, subscriptionId: string): Promise<SubscriptionRow> {
  const control = await getControlDb();
  const [row] = await control.db.select().from(subscriptions).where(and(eq(subscriptions.id, subscriptionId), eq(subscriptions.workspaceId, workspaceId))).limit(1);
  if (!row) throw notFound("This workspace has no such subscription.");
  return row;
}

export async function verifyCheckout(access: WorkspaceAccess<"billing">, answer: CheckoutAnswer): Promise<SubscriptionSummary> {
  const billing = requireBilling();
  billingOwner(access);
  const { razorpay_payment_id: paymentId, razorpay_subscription_id: subscriptionId, razorpay_signature: signature } = answer;
  let row: SubscriptionRow;
  try {
    row = await ownSubscription(access.workspaceId, subscriptionId);
  } catch (error) {
    await auditBoth(access, { action: "billing.checkout_rejected", details: { subscriptionId, paymentId, reason: "not_this_workspace" } });
    throw error;
  }
  if (!validatePaymentVerification({ subscription_id: row.id, payment_id: paymentId }, signature, billing.keySecret)) {
    await auditBoth(access, { action: "billing.checkout_rejected", details: { subscriptionId, paymentId, reason: "bad_signature" } });
    throw new HttpError(400, "bad_signature", "Razorpay's signature on this payment does not check out; nothing was changed.");
  }
  let updated = row;
  await auditBoth(access, { action: "billing.checkout_verified", details: { subscriptionId, paymentId } }, async (tx) => {
    const [current] = await tx.select().from(subscriptions).where(eq(subscriptions.id, row.id));
    if (!current) return;
    updated = current;
    // Only the first step: a webhook may already have moved it further (active), which this must not undo.
    if (current.status !== "created") return;
    const now = Date.now();
    await tx.update(subscriptions).set({ status: "authenticated", updatedAt: now }).where(and(eq(subscriptions.id, row.id), eq(subscriptions.status, "created")));
    updated = { ...current, status: "authenticated", updatedAt: now };
  });
  return summary(updated);
}

export async function cancelAtPeriodEnd(access: WorkspaceAccess<"billing">): Promise<SubscriptionSummary> {
  const billing = requireBilling();
  billingOwner(access);
  const paid = await paidSubscription(access.workspaceId);
  if (!paid) throw new HttpError(409, "no_subscription", "This workspace has no paid subscription to cancel.");
  if (paid.cancelAtPeriodEnd) throw new HttpError(409, "already_cancelling", "This subscription already ends with its current period.");
  parseEntity(await callRazorpay("subscriptions.cancel", () => razorpayClient(billing).subscriptions.cancel(paid.id, true)));
  return setCancelAtPeriodEnd(access, paid, true);
}

export async function resumeSubscription(access: WorkspaceAccess<"billing">): Promise<SubscriptionSummary> {
  const billing = requireBilling();
  billingOwner(access);
  const latest = await latestSubscription(access.workspaceId);
  if (!latest || !latest.cancelAtPeriodEnd || isFinal(latest.status)) throw new HttpError(409, "nothing_to_resume", "No subscription of this workspace is waiting to end: there is nothing to resume.");
  parseEntity(await callRazorpay("subscriptions.cancelScheduledChanges", () => razorpayClient(billing).subscriptions.cancelScheduledChanges(latest.id)));
  return setCancelAtPeriodEnd(access, latest, false);
}

async function setCancelAtPeriodEnd(access: WorkspaceAccess<"billing">, row: SubscriptionRow, cancel: boolean): Promise<SubscriptionSummary> {
  const now = Date.now();
  await auditBoth(access, { action: cancel ? "billing.cancel_scheduled" : "billing.subscription_resumed", details: { subscriptionId: row.id, planId: row.planId } }, async (tx) => {
    await tx.update(subscriptions).set({ cancelAtPeriodEnd: cancel, updatedAt: now }).where(eq(subscriptions.id, row.id));
  });
  return summary({ ...row, cancelAtPeriodEnd: cancel, updatedAt: now });
}

export async function billingOverview(access: WorkspaceAccess<"billing">): Promise<BillingOverview> {
  requireBilling();
  billingOwner(access);
  const { workspaceId } = access;
  const [plan, usage, latest, payments] = await Promise.all([planInForce(workspaceId), workspaceUsage(workspaceId), latestSubscription(workspaceId), listWorkspacePayments(workspaceId)]);
  const names = Object.keys(LIMIT_NOUNS) as LimitName[];
  return {
    plan: planSummary(plan),
    plans: billingPlans().map(planSummary),
    limits: names.map((name) => ({ name, label: LIMIT_LABELS[name], allowed: plan.limits[name], used: usage[name] })),
    subscription: latest ? summary(latest) : null,
    payments,
  };
}

/** The Billing page's names for the limits. */
export const LIMIT_LABELS: Record<LimitName, string> = { members: "Members", storageMb: "Storage (MB)", teamTokens: "Team tokens", aiClients: "AI clients" };
