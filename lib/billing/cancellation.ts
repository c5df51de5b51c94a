import { and, asc, eq, inArray, isNotNull, isNull, min, notInArray, or, count, type SQL } from "drizzle-orm";
import { subscriptions } from "@/db/control/schema";
import { auditControl, auditControlTx, type Actor } from "../audit/audit";
import { getConfig } from "../config";
import { getControlDb, type ControlTx } from "../db/store";
import { logger } from "../log/logger";
import { callRazorpay, RazorpayCallError, razorpayClient, subscriptionEntitySchema } from "./razorpay";
import { FINAL_STATUSES, isFinal } from "./subscriptions";

/**
 * A deleted workspace, or a closed account, must stop being charged. The duty is written in the
 * deletion's (or closure's) own transaction — `cancelOwedSince` on each subscription not yet
 * ended — so no crash, and no Razorpay outage, can lose it; right after that transaction
 * commits the same request asks Razorpay through the SDK to cancel at once, and what fails is
 * retried by the billing-cancellations job and shown by `enclave operator status` (and
 * /api/operator/status) until Razorpay has said yes. Razorpay cannot un-cancel: a workspace
 * restored from deletion comes back on the free plan, and its owner subscribes again.
 */
const SYSTEM: Actor = { type: "system", id: "billing" };
const BATCH = 50;

export type Owed = { workspaceIds?: readonly string[]; userId?: string };

function owedBy({ workspaceIds, userId }: Owed): SQL | undefined {
  const parts = [workspaceIds?.length ? inArray(subscriptions.workspaceId, [...workspaceIds]) : undefined, userId ? eq(subscriptions.userId, userId) : undefined].filter(Boolean);
  return parts.length > 0 ? or(...parts) : undefined;
}

/** Inside the deletion or closure transaction: every subscription of those workspaces (or paid by that account) not yet ended now owes a cancellation. */
export async function oweCancellationsTx(tx: ControlTx, owed: Owed, actor: Actor, now: number): Promise<number> {
  const which = owedBy(owed);
  if (!which) return 0;
  const marked = await tx
    .update(subscriptions)
    .set({ cancelOwedSince: now, updatedAt: now })
    .where(and(which, isNull(subscriptions.cancelOwedSince), notInArray(subscriptions.status, [...FINAL_STATUSES])))
    .returning({ id: subscriptions.id, workspaceId: subscriptions.workspaceId });
  for (const row of marked) {
    await auditControlTx(tx, { actor, action: "billing.cancellation_owed", target: row.id, details: { workspaceId: row.workspaceId, ...owed } });
  }
  return marked.length;
}

export type SettleFigures = { settled: number; failed: number; stillOwed: number };

/**
 * Asks Razorpay to cancel each owed subscription (those of `owed`, or all), at once and not at
 * the period's end. A refusal because it has already ended (cancelled in the dashboard,
 * completed) settles the duty too: the SDK's fetch says which.
 */
export async function settleOwedCancellations(owed: Owed = {}, now = Date.now()): Promise<SettleFigures> {
  const billing = getConfig().billing;
  const control = await getControlDb();
  // A scope that names nothing (no workspace deleted, no account) owes nothing; no scope at all is the job's "every one".
  const scoped = owed.workspaceIds !== undefined || owed.userId !== undefined;
  const scope = owedBy(owed);
  if (!billing || (scoped && !scope)) return { settled: 0, failed: 0, stillOwed: await owedCount() };
  const client = razorpayClient(billing);
  const rows = await control.db.select().from(subscriptions).where(and(isNotNull(subscriptions.cancelOwedSince), scope)).orderBy(asc(subscriptions.cancelOwedSince)).limit(BATCH);
  let settled = 0;
  let failed = 0;
  for (const row of rows) {
    let status: (typeof row)["status"] | null = null;
    let error: string | null = null;
    try {
      const answer = subscriptionEntitySchema.safeParse(await callRazorpay("subscriptions.cancel", () => client.subscriptions.cancel(row.id, false)));
      status = answer.success ? answer.data.status : "cancelled";
    } catch (cancelError) {
      if (!(cancelError instanceof RazorpayCallError)) throw cancelError;
      error = cancelError.detail;
      const current = await callRazorpay("subscriptions.fetch", () => client.subscriptions.fetch(row.id)).then(
        (entity) => subscriptionEntitySchema.safeParse(entity),
        () => null,
      );
      if (current?.success && isFinal(current.data.status)) status = current.data.status;
    }
    if (status !== null) {
      await control.db
        .update(subscriptions)
        .set({ status, cancelOwedSince: null, cancelError: null, cancelAttempts: row.cancelAttempts + 1, cancelAtPeriodEnd: false, updatedAt: now })
        .where(eq(subscriptions.id, row.id));
      await auditControl({ actor: SYSTEM, action: "billing.subscription_cancelled", target: row.id, details: { workspaceId: row.workspaceId, reason: "workspace_or_account_ended", status } });
      settled++;
    } else {
      await control.db
        .update(subscriptions)
        .set({ cancelError: error, cancelAttempts: row.cancelAttempts + 1, updatedAt: now })
        .where(eq(subscriptions.id, row.id));
      logger.error({ subscriptionId: row.id, workspaceId: row.workspaceId, attempts: row.cancelAttempts + 1, detail: error }, "Razorpay subscription cancellation still owed");
      failed++;
    }
  }
  return { settled, failed, stillOwed: await owedCount() };
}

async function owedCount(): Promise<number> {
  const control = await getControlDb();
  const [left] = await control.db.select({ n: count() }).from(subscriptions).where(isNotNull(subscriptions.cancelOwedSince));
  return left?.n ?? 0;
}

/** For the operator: what Razorpay still has to be told. */
export async function owedCancellationsStatus(): Promise<{ owed: number; oldestOwedSince: number | null; lastError: string | null }> {
  const control = await getControlDb();
  const [summary] = await control.db
    .select({ owed: count(), oldest: min(subscriptions.cancelOwedSince) })
    .from(subscriptions)
    .where(isNotNull(subscriptions.cancelOwedSince));
  const [latest] = await control.db
    .select({ error: subscriptions.cancelError })
    .from(subscriptions)
    .where(and(isNotNull(subscriptions.cancelOwedSince), isNotNull(subscriptions.cancelError)))
    .orderBy(asc(subscriptions.cancelOwedSince))
    .limit(1);
  return { owed: summary?.owed ?? 0, oldestOwedSince: summary?.oldest ?? null, lastError: latest?.error ?? null };
}
