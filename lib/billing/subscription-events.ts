import { eq } from "drizzle-orm";
import { subscriptions, type SubscriptionRow } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import type { ControlTx } from "../db/store";
import { logger } from "../log/logger";
import type { SubscriptionEntity } from "./razorpay";
import { billingPlans, isFinal } from "./subscriptions";

/**
 * What a Razorpay subscription entity (from a verified webhook) does to OUR row for it. The row
 * was made when we created the subscription, so its workspace and user are fixed there and are
 * the only ones ever used: the entity's notes are a cross-check, never a source.
 *
 * Order: Razorpay does not promise it. An event applies only when its own `created_at` is not
 * older than the newest one applied (`eventAt`), so a late `activated` never undoes a newer
 * `cancelled` or `halted`. Equal timestamps apply in arrival order (Razorpay sends activated and
 * charged within the same second), except that a final status (cancelled, completed, expired)
 * is never left for a non-final one, whatever the timestamps say.
 */
export type SubscriptionMove =
  | { outcome: "applied" | "stale"; row: SubscriptionRow }
  | { outcome: "unknown" | "mismatch"; row: null };

const SYSTEM: Actor = { type: "system", id: "razorpay" };

/** Our plan id for a Razorpay plan id; null when the operator's plans do not name it. */
function planFor(razorpayPlanId: string): string | null {
  return billingPlans().find((plan) => plan.razorpayPlanId === razorpayPlanId)?.id ?? null;
}

/** Our row for the entity, or why there is none: an unknown id (audited), or notes naming another workspace (audited). */
export async function ourSubscription(tx: ControlTx, entity: SubscriptionEntity, event: string): Promise<SubscriptionMove | SubscriptionRow> {
  const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, entity.id));
  if (!row) {
    // Not one we created (another system on the same Razorpay account, or a row already gone).
    logger.warn({ subscriptionId: entity.id, event }, "Razorpay webhook for a subscription Enclave did not create: ignored");
    await auditControlTx(tx, { actor: SYSTEM, action: "billing.webhook_unknown_subscription", target: entity.id, details: { event } });
    return { outcome: "unknown", row: null };
  }
  const notes: Record<string, unknown> = entity.notes;
  const noted = notes.workspace_id;
  if (noted !== undefined && noted !== row.workspaceId) {
    logger.warn({ subscriptionId: entity.id, workspaceId: row.workspaceId, event }, "Razorpay webhook whose notes name another workspace than our row: ignored");
    await auditControlTx(tx, {
      actor: SYSTEM,
      action: "billing.webhook_mismatch",
      target: entity.id,
      details: { event, workspaceId: row.workspaceId, notedWorkspaceId: typeof noted === "string" ? noted.slice(0, 100) : `(${typeof noted})` },
    });
    return { outcome: "mismatch", row: null };
  }
  return row;
}

function isStale(row: SubscriptionRow, entity: SubscriptionEntity, eventAt: number): boolean {
  if (eventAt < row.eventAt) return true;
  return isFinal(row.status) && !isFinal(entity.status);
}

/** Moves our row to the entity's state when the event is ours and not stale; audits a change of status or plan. */
export async function applySubscriptionEntity(tx: ControlTx, entity: SubscriptionEntity, event: string, eventAt: number, now: number): Promise<SubscriptionMove> {
  const found = await ourSubscription(tx, entity, event);
  if ("outcome" in found) return found;
  const row = found;
  if (isStale(row, entity, eventAt)) {
    logger.info({ subscriptionId: row.id, event, eventAt, appliedAt: row.eventAt, status: row.status }, "Razorpay webhook older than the subscription's state: ignored");
    return { outcome: "stale", row };
  }
  const mapped = planFor(entity.plan_id);
  if (!mapped) logger.warn({ subscriptionId: row.id, razorpayPlanId: entity.plan_id }, "Razorpay plan not in ENCLAVE_PLANS_FILE: the subscription keeps its plan");
  const planId = mapped ?? row.planId;
  const next = {
    status: entity.status,
    planId,
    currentEnd: entity.current_end === undefined ? row.currentEnd : entity.current_end === null ? null : entity.current_end * 1000,
    cancelAtPeriodEnd: isFinal(entity.status) ? false : row.cancelAtPeriodEnd,
    // Razorpay saying it has ended settles a cancellation a deletion or closure still owed (lib/billing/cancellation.ts).
    ...(isFinal(entity.status) && row.cancelOwedSince !== null && { cancelOwedSince: null, cancelError: null }),
    eventAt,
    updatedAt: now,
  };
  const [moved] = await tx.update(subscriptions).set(next).where(eq(subscriptions.id, row.id)).returning();
  if (next.status !== row.status || next.planId !== row.planId) {
    await auditControlTx(tx, {
      actor: SYSTEM,
      action: `billing.subscription_${next.status}`,
      target: row.id,
      details: { workspaceId: row.workspaceId, subscriptionId: row.id, from: row.status, to: next.status, event, ...(next.planId !== row.planId && { planFrom: row.planId, planTo: next.planId }) },
    });
  }
  return { outcome: "applied", row: moved ?? { ...row, ...next } };
}

/** Our row for a subscription id named elsewhere (a payment's subscription_id), without moving it. */
export async function subscriptionById(tx: ControlTx, id: string): Promise<SubscriptionRow | null> {
  const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row ?? null;
}
