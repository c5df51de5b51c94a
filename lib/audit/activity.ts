import { and, eq, gte, or } from "drizzle-orm";
import { auditLog as controlAuditLog } from "@/db/control/schema";
import { getControlDb } from "../db/store";
import { readAuditPage, withActorNames, type AuditPage, type AuditQuery } from "./trail";

/**
 * Account › Activity: the control.db rows about one person — what they did (sign-ins, MFA,
 * tokens, consents, export, closure) and what was done to their account (a failed sign-in
 * with their email, being added to a workspace). Nobody else's rows, and nobody else's IP or
 * browser: on a row another person or client wrote, those stay hidden. An anonymous attempt
 * on the account keeps them, since whoever tried is what the owner needs to see.
 *
 * Only rows from the account's creation on: an email whose closed account was purged can sign
 * up again onto the same id (its tombstone), and the newcomer must not read who came before.
 */
export async function readAccountActivity(user: { id: string; createdAt: number }, query: AuditQuery): Promise<AuditPage> {
  const control = await getControlDb();
  const userId = user.id;
  const byThem = and(eq(controlAuditLog.actorType, "user"), eq(controlAuditLog.actorId, userId));
  const aboutThem = and(or(byThem, eq(controlAuditLog.target, userId)), gte(controlAuditLog.at, user.createdAt));
  const page = await readAuditPage(control.db, controlAuditLog, query, aboutThem);
  const items = (await withActorNames(page.rows)).map((row) =>
    (row.actorType === "user" && row.actorId === userId) || row.actorType === "anonymous" ? row : { ...row, ip: null, userAgent: null },
  );
  return { items, nextCursor: page.nextCursor, prevCursor: page.prevCursor };
}
