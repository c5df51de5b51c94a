import { desc, eq } from "drizzle-orm";
import { payments, subscriptions, type PaymentRow } from "@/db/control/schema";
import { getConfig } from "../config";
import { getControlDb } from "../db/store";

/**
 * Payment history (payments captured or failed, refunds), newest first. Kept after closure and
 * purge: what the Billing page, the account export and an accountant read.
 */
export type PaymentRecord = Pick<PaymentRow, "id" | "kind" | "workspaceId" | "subscriptionId" | "paymentId" | "invoiceId" | "amount" | "currency" | "status" | "occurredAt">;

const columns = {
  id: payments.id,
  kind: payments.kind,
  workspaceId: payments.workspaceId,
  subscriptionId: payments.subscriptionId,
  paymentId: payments.paymentId,
  invoiceId: payments.invoiceId,
  amount: payments.amount,
  currency: payments.currency,
  status: payments.status,
  occurredAt: payments.occurredAt,
};

const HISTORY_LIMIT = 500;

export async function listWorkspacePayments(workspaceId: string): Promise<PaymentRecord[]> {
  const control = await getControlDb();
  return control.db.select(columns).from(payments).where(eq(payments.workspaceId, workspaceId)).orderBy(desc(payments.occurredAt)).limit(HISTORY_LIMIT);
}

/** Every payment of the account, in every workspace it paid for (the export holds them all). */
export async function listAccountPayments(userId: string): Promise<PaymentRecord[]> {
  const control = await getControlDb();
  return control.db.select(columns).from(payments).where(eq(payments.userId, userId)).orderBy(desc(payments.occurredAt));
}

/**
 * The account export's billing.json: the subscriptions the person took out and their payments.
 * Null with billing off and nothing ever billed, so an instance that never billed exports no
 * billing file at all.
 */
export async function accountBilling(userId: string) {
  const control = await getControlDb();
  const taken = await control.db
    .select({
      id: subscriptions.id,
      workspaceId: subscriptions.workspaceId,
      planId: subscriptions.planId,
      status: subscriptions.status,
      currentEnd: subscriptions.currentEnd,
      cancelAtPeriodEnd: subscriptions.cancelAtPeriodEnd,
      createdAt: subscriptions.createdAt,
    })
    .from(subscriptions)
    .where(eq(subscriptions.userId, userId))
    .orderBy(desc(subscriptions.createdAt));
  const paid = await listAccountPayments(userId);
  if (!getConfig().billing && taken.length === 0 && paid.length === 0) return null;
  return { subscriptions: taken, payments: paid };
}
