import { desc, eq } from "drizzle-orm";
import { payments, type PaymentRow } from "@/db/control/schema";
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
