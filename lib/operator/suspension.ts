import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb } from "../db/store";
import { notFound } from "../http/errors";

/**
 * POST /api/operator/users/{userId}/suspend and /unsuspend: sets or clears users.suspended_at
 * (what it stops is lib/auth/suspension.ts). Idempotent: suspending a suspended person keeps
 * the first time and changes nothing. The access epoch moves either way a change is made, so
 * live event streams ask again. A closed account's tombstone is no one to suspend: 404.
 */
export const suspensionResultSchema = z.object({
  userId: z.string(),
  suspended: z.boolean(),
  suspendedAt: z.number().nullable(),
  changed: z.boolean().describe("false when it already was so"),
});
export type SuspensionResult = z.infer<typeof suspensionResultSchema>;

export async function setSuspension(userId: string, suspend: boolean, actor: Actor, now = Date.now()): Promise<SuspensionResult> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, suspendedAt: users.suspendedAt, closedAt: users.closedAt }).from(users).where(eq(users.id, userId));
    if (!user || user.closedAt !== null) throw notFound("No such user.");
    const changed = (user.suspendedAt !== null) !== suspend;
    const suspendedAt = suspend ? (user.suspendedAt ?? now) : null;
    if (changed) {
      await tx.update(users).set({ suspendedAt }).where(eq(users.id, userId));
      await bumpAccessEpoch(tx);
    }
    await auditControlTx(tx, { actor, action: suspend ? "operator.user_suspend" : "operator.user_unsuspend", target: userId, details: { changed } });
    return { userId, suspended: suspend, suspendedAt, changed };
  });
}
