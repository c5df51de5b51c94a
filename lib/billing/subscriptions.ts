import { and, desc, eq, inArray, sql, type Placeholder } from "drizzle-orm";
import { subscriptions, type SubscriptionRow } from "@/db/control/schema";
import { getConfig } from "../config";
import { preparedPerHandle } from "../db/prepared";
import { getControlDb, type ControlDb, type ControlTx } from "../db/store";
import { logger } from "../log/logger";
import { UNLIMITED, type Plan } from "./plans";

/**
 * Which plan a workspace is on: that of its newest subscription while Razorpay says it is paid
 * for (authenticated: the mandate is in place; active; pending: a charge failed and Razorpay is
 * retrying), else `free`. Billing off: UNLIMITED, and nothing is read.
 */
export const PAID_STATUSES = ["authenticated", "active", "pending"] as const satisfies readonly SubscriptionRow["status"][];
/** A subscription in one of these never moves again: what a late webhook may not undo. */
export const FINAL_STATUSES = ["cancelled", "completed", "expired"] as const satisfies readonly SubscriptionRow["status"][];

export const isPaid = (status: SubscriptionRow["status"]) => (PAID_STATUSES as readonly string[]).includes(status);
export const isFinal = (status: SubscriptionRow["status"]) => (FINAL_STATUSES as readonly string[]).includes(status);

type Reader = Pick<ControlTx, "select">;

/** The workspace's newest subscription, whatever its state. */
export async function latestSubscription(workspaceId: string, reader?: Reader): Promise<SubscriptionRow | null> {
  const db = reader ?? (await getControlDb()).db;
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.workspaceId, workspaceId)).orderBy(desc(subscriptions.createdAt)).limit(1);
  return row ?? null;
}

const paidQuery = (db: Reader, workspaceId: string | Placeholder) =>
  db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.workspaceId, workspaceId), inArray(subscriptions.status, [...PAID_STATUSES])))
    .orderBy(desc(subscriptions.createdAt))
    .limit(1);
// With billing on, every workspace write asks this first (limits.ts): prepared once, not built per write.
const preparedPaidQuery = preparedPerHandle((control: ControlDb) => paidQuery(control.db, sql.placeholder("workspaceId")).prepare());

/** The subscription that pays for the workspace now, if any. */
export async function paidSubscription(workspaceId: string, reader?: Reader): Promise<SubscriptionRow | null> {
  const [row] = reader ? await paidQuery(reader, workspaceId) : await preparedPaidQuery(await getControlDb()).all({ workspaceId });
  return row ?? null;
}

export function billingPlans(): Plan[] {
  return getConfig().billing?.plans ?? [UNLIMITED];
}

export function freePlan(): Plan {
  return billingPlans().find((plan) => plan.id === "free") ?? UNLIMITED;
}

export function planById(planId: string): Plan | null {
  return billingPlans().find((plan) => plan.id === planId) ?? null;
}

/** The plan whose limits apply to the workspace now. */
export async function planInForce(workspaceId: string, reader?: Reader): Promise<Plan> {
  if (!getConfig().billing) return UNLIMITED;
  const paid = await paidSubscription(workspaceId, reader);
  if (!paid) return freePlan();
  const plan = planById(paid.planId);
  if (!plan) {
    // The operator took the plan out of the file while someone pays for it: free limits, and the log says why.
    logger.warn({ workspaceId, planId: paid.planId, subscriptionId: paid.id }, "Paid subscription names a plan no longer in ENCLAVE_PLANS_FILE: free limits apply");
    return freePlan();
  }
  return plan;
}
