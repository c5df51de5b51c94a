import { and, isNotNull, lt, ne, or } from "drizzle-orm";
import { accessRequests, emailTokens, invitations, webhookReceipts } from "@/db/control/schema";
import { getControlDb } from "../db/store";

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * How long a finished row is kept. Webhook receipts outlive any provider's retries by far (Svix
 * retries for about 3 days and refuses a timestamp over 5 minutes old anyway; Razorpay retries for
 * 24 hours), so a replay always finds its receipt. The same holds for the `user:<clerk id>` rows
 * lib/webhooks/clerk.ts keeps to order user.updated: a version 30 days old can no longer arrive
 * late, so forgetting it lets no older update through. Invitations and answered requests stay a month
 * for the admin's and operator's lists; the audit trail keeps the history beyond that.
 */
export const KEEP_RECEIPTS_MS = 30 * DAY_MS;
export const KEEP_FINISHED_MS = 30 * DAY_MS;

/** The identity job: forgets mailed links, invitations, answered access requests and receipts past their use (ended Clerk sessions go with expired-sessions). */
export async function sweepIdentityRows(now = Date.now()): Promise<Record<string, number>> {
  const control = await getControlDb();
  const finishedBefore = now - KEEP_FINISHED_MS;
  const count = async (rows: Promise<unknown[]>) => (await rows).length;
  return control.transaction(async (tx) => ({
    // A mailed link is of no use once spent or expired.
    emailTokens: await count(tx.delete(emailTokens).where(or(lt(emailTokens.expiresAt, now), isNotNull(emailTokens.usedAt))).returning({ id: emailTokens.id })),
    invitations: await count(
      tx
        .delete(invitations)
        .where(or(lt(invitations.expiresAt, finishedBefore), lt(invitations.acceptedAt, finishedBefore), lt(invitations.revokedAt, finishedBefore)))
        .returning({ id: invitations.id }),
    ),
    // A pending request waits for its answer however old it is.
    accessRequests: await count(
      tx
        .delete(accessRequests)
        .where(and(ne(accessRequests.status, "pending"), lt(accessRequests.answeredAt, finishedBefore)))
        .returning({ id: accessRequests.id }),
    ),
    webhookReceipts: await count(tx.delete(webhookReceipts).where(lt(webhookReceipts.receivedAt, now - KEEP_RECEIPTS_MS)).returning({ id: webhookReceipts.eventId })),
  }));
}
