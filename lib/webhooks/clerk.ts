import { and, eq, ne } from "drizzle-orm";
import { Webhook, WebhookVerificationError } from "svix";
import { z } from "zod";
import { users, webhookReceipts } from "@/db/control/schema";
import { recordWebhookRejection } from "../access/denials";
import { auditControlTx, type Actor } from "../audit/audit";
import { getConfig, type ClerkConfig } from "../config";
import { getControlDb, type ControlTx } from "../db/store";
import { readBody } from "../http/body";
import { HttpError, notFound } from "../http/errors";
import { afterClosureCommitted, closeAccountTx, type ClosureSummary } from "../lifecycle/closure";
import { holdEndsAt } from "../lifecycle/workspace-deletion";
import { logger } from "../log/logger";
import { clerkUserSchema, primaryVerifiedEmail } from "../auth/clerk-api";
import { recordEndedClerkSession } from "../auth/clerk-sessions";
import { linkClerkUser, SignUpRefusedError } from "../auth/clerk-users";

/**
 * POST /api/webhooks/clerk. The raw body is verified by svix's own Webhook (HMAC over
 * `id.timestamp.body`, the timestamp within five minutes, constant-time compare) — never a
 * hand-written check — before a byte of it is parsed. Each delivery is applied once: its
 * svix-id goes into webhook_receipts in the same transaction as its effect, so a replay (or
 * svix's own retry) is a 200 that changes nothing, and a failed effect leaves no receipt, so
 * the retry applies it. Refusals before verification are a 400 (413 past the cap) and a
 * `webhook.rejected` row, budgeted per IP (lib/access/denials.ts).
 *
 * Order: svix does not promise it. user.updated carries the user's `updated_at`; the newest one
 * applied per Clerk user is kept as a receipt keyed `user:<clerk user id>` whose receivedAt is
 * that version (no column of its own yet: docs/decisions/017-clerk-mode.md), and an older one changes nothing.
 * user.deleted is final whatever came before, and a session ended stays ended.
 */
export const CLERK_WEBHOOK_MAX_BYTES = 256 * 1024;

const SYSTEM: Actor = { type: "system", id: "clerk" };

const eventSchema = z.object({ type: z.string().min(1).max(100), data: z.record(z.string(), z.unknown()), timestamp: z.number().optional() });
const deletedSchema = z.object({ id: z.string().regex(/^user_[A-Za-z0-9]+$/) });
const sessionSchema = z.object({ id: z.string().regex(/^sess_[A-Za-z0-9]+$/), expire_at: z.number().int().optional() });

type ClosedAccount = { userId: string; summary: ClosureSummary };

export type WebhookOutcome = { status: "applied" | "replay" | "ignored"; type: string };

class WebhookRejected extends HttpError {
  constructor(readonly reason: string, status = 400) {
    super(status, "webhook_rejected", status === 413 ? `The webhook body is larger than ${CLERK_WEBHOOK_MAX_BYTES} bytes.` : "The webhook could not be verified.");
  }
}

const REASONS: Record<string, string> = {
  "Missing required headers": "missing_headers",
  "Message timestamp too old": "stale_timestamp",
  "Message timestamp too new": "future_timestamp",
  "Invalid Signature Headers": "malformed_signature",
  "No matching signature found": "bad_signature",
};

async function verified(request: Request, clerk: ClerkConfig): Promise<{ id: string; timestamp: number; event: z.infer<typeof eventSchema> }> {
  const raw = await readBody(request, CLERK_WEBHOOK_MAX_BYTES).catch((error: unknown) => {
    throw error instanceof HttpError && error.status === 413 ? new WebhookRejected("oversized", 413) : error;
  });
  const headers = { "svix-id": request.headers.get("svix-id") ?? "", "svix-timestamp": request.headers.get("svix-timestamp") ?? "", "svix-signature": request.headers.get("svix-signature") ?? "" };
  let payload: unknown;
  try {
    payload = new Webhook(clerk.webhookSigningSecret).verify(raw, headers);
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw new WebhookRejected(REASONS[error.message] ?? "unverified");
    // Verified, but not JSON: svix parses after the signature matched.
    throw new WebhookRejected("malformed_event");
  }
  const event = eventSchema.safeParse(payload);
  if (!event.success || headers["svix-id"].length > 200) throw new WebhookRejected("malformed_event");
  return { id: headers["svix-id"], timestamp: Number(headers["svix-timestamp"]) * 1000, event: event.data };
}

/** Verifies and applies one delivery; in local mode the endpoint does not exist. */
export async function receiveClerkWebhook(request: Request, ip: string): Promise<WebhookOutcome> {
  const clerk = getConfig().clerk;
  if (!clerk) throw notFound("There is no such endpoint: this Enclave does not use Clerk.");
  let delivery: Awaited<ReturnType<typeof verified>>;
  try {
    delivery = await verified(request, clerk);
  } catch (error) {
    if (error instanceof WebhookRejected) {
      logger.warn({ reason: error.reason, ip }, "Clerk webhook rejected");
      await recordWebhookRejection("clerk", ip, error.reason);
    }
    throw error;
  }
  return apply(delivery);
}

async function apply({ id, timestamp, event }: Awaited<ReturnType<typeof verified>>): Promise<WebhookOutcome> {
  const now = Date.now();
  const control = await getControlDb();
  let closed: ClosedAccount | null = null;
  const status = await control.transaction(async (tx): Promise<WebhookOutcome["status"]> => {
    const receipt = await tx
      .insert(webhookReceipts)
      .values({ provider: "clerk", eventId: id, eventType: event.type, receivedAt: now })
      .onConflictDoNothing()
      .returning({ id: webhookReceipts.eventId });
    if (receipt.length === 0) return "replay";
    switch (event.type) {
      case "user.created":
      case "user.updated":
        return applyUser(tx, event.data, event.type, timestamp, now);
      case "user.deleted": {
        closed = await applyUserDeleted(tx, event.data, now);
        return closed ? "applied" : "ignored";
      }
      case "session.revoked":
      case "session.ended":
      case "session.removed": {
        const session = sessionSchema.safeParse(event.data);
        if (!session.success) return "ignored";
        await recordEndedClerkSession(session.data.id, { tx, now, keepUntil: session.data.expire_at });
        await auditControlTx(tx, { actor: SYSTEM, action: "clerk.session_ended", target: session.data.id, details: { event: event.type } });
        return "applied";
      }
      default:
        // session.created and everything Clerk adds later: nothing to do, but the receipt keeps a replay quiet.
        return "ignored";
    }
  });
  // Assigned inside the transaction's callback, which TypeScript's narrowing cannot see.
  const closedAccount = closed as ClosedAccount | null;
  if (closedAccount) await afterClosureCommitted(closedAccount.userId, closedAccount.summary, SYSTEM);
  logger.info({ svixId: id, type: event.type, outcome: status }, "Clerk webhook");
  return { status, type: event.type };
}

const versionKey = (clerkUserId: string) => `user:${clerkUserId}`;

/** user.created / user.updated: link or create the account, then take a changed verified email unless it is stale or another account's. */
async function applyUser(tx: ControlTx, data: unknown, type: string, timestamp: number, now: number): Promise<WebhookOutcome["status"]> {
  const parsed = clerkUserSchema.safeParse(data);
  if (!parsed.success) return "ignored";
  const clerkUser = parsed.data;
  const version = clerkUser.updated_at ?? timestamp;
  const [seen] = await tx.select({ version: webhookReceipts.receivedAt }).from(webhookReceipts).where(and(eq(webhookReceipts.provider, "clerk"), eq(webhookReceipts.eventId, versionKey(clerkUser.id))));
  if (seen && seen.version >= version) {
    logger.info({ clerkUserId: clerkUser.id, version, applied: seen.version }, "Clerk webhook older than the user's last applied version: ignored");
    return "ignored";
  }
  await tx
    .insert(webhookReceipts)
    .values({ provider: "clerk", eventId: versionKey(clerkUser.id), eventType: "user.version", receivedAt: version })
    .onConflictDoUpdate({ target: [webhookReceipts.provider, webhookReceipts.eventId], set: { receivedAt: version } });
  const email = primaryVerifiedEmail(clerkUser);
  let user;
  try {
    user = await linkClerkUser({ clerkUserId: clerkUser.id, email, verifiedAt: now }, { tx, now, via: "webhook" });
  } catch (error) {
    if (!(error instanceof SignUpRefusedError)) throw error;
    await auditControlTx(tx, { actor: SYSTEM, action: "clerk.user_refused", target: clerkUser.id, details: { reason: error.reason, event: type } });
    return "ignored";
  }
  if (!email || email === user.email) return "applied";
  const [holder] = await tx.select({ id: users.id }).from(users).where(and(eq(users.email, email), ne(users.id, user.id))).limit(1);
  if (holder) {
    // Taking it would merge two people's accounts by whoever controls a Clerk profile: refused, and left for a person to sort out.
    logger.warn({ userId: user.id, clerkUserId: clerkUser.id }, "Clerk email change refused: another account holds that email");
    await auditControlTx(tx, { actor: SYSTEM, action: "clerk.email_conflict", target: user.id, details: { clerkUserId: clerkUser.id, heldBy: holder.id } });
    return "ignored";
  }
  await tx.update(users).set({ email, emailVerifiedAt: now }).where(eq(users.id, user.id));
  await auditControlTx(tx, { actor: SYSTEM, action: "clerk.email_changed", target: user.id, details: { from: user.email, to: email } });
  return "applied";
}

/** user.deleted: the account's closure starts, with its hold, as if the person had asked (lib/lifecycle/closure.ts). */
async function applyUserDeleted(tx: ControlTx, data: unknown, now: number): Promise<ClosedAccount | null> {
  const parsed = deletedSchema.safeParse(data);
  if (!parsed.success) return null;
  const [user] = await tx.select().from(users).where(eq(users.clerkUserId, parsed.data.id));
  if (!user || user.closedAt !== null || user.closureRequestedAt !== null) return null;
  return { userId: user.id, summary: await closeAccountTx(tx, user.id, SYSTEM, now, holdEndsAt(now)) };
}
