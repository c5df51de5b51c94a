import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { accessRequests, invitations, users } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { emailSchema } from "../auth/users";
import { signUpMode } from "../auth/signup-policy";
import { assertTurnstile } from "../auth/turnstile";
import { randomId } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { limitAccessRequest } from "../http/rate-limits";
import { storedText, text } from "../http/text";
import { deliverInvitation } from "./invitation-delivery";
import { issueInvitationTx, type Invitation } from "./invitations";

/**
 * Requests to join when sign-up is not open (the public /request-access form), answered by
 * the operator (operator API or `enclave access-requests`). Approving issues a sign-up pass:
 * an invitation with no workspace (lib/auth/signup-policy.ts lets it through invite and closed).
 *
 * The form answers the same whatever the email: whether it already has an account or a pending
 * request is not told (neither is stored again), and a filled honeypot gets the same success
 * and stores nothing. Each IP and each email have a budget (lib/http/rate-limits.ts), spent
 * before anything is looked up, so a flood stores at most the budget.
 */
export const ACCESS_REQUEST_MESSAGE_MAX = 500;

export const accessRequestSchema = z.object({
  email: emailSchema,
  // Shown to the operator in a terminal: stored-text rules keep escape sequences out.
  message: z.string().trim().pipe(storedText(ACCESS_REQUEST_MESSAGE_MAX)).default(""),
  /** The honeypot: a field people never see, so never fill. */
  website: text(1000).optional(),
  /** The Turnstile widget's token (`cf-turnstile-response`), when Turnstile is on. */
  turnstileToken: text(4096).optional(),
});
export type AccessRequestInput = z.infer<typeof accessRequestSchema>;

export const ACCESS_REQUEST_RECEIVED = {
  status: "received",
  message: "Thank you. If the operator approves, an invitation will be sent to that address.",
} as const;

export async function submitAccessRequest(input: AccessRequestInput, ip: string, now = Date.now()): Promise<typeof ACCESS_REQUEST_RECEIVED> {
  if (signUpMode() === "open") throw new HttpError(409, "signup_open", "Sign-up is open here: create an account at /sign-up.");
  await limitAccessRequest(ip, input.email);
  await assertTurnstile(input.turnstileToken, ip);
  if (input.website) return ACCESS_REQUEST_RECEIVED;
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [account] = await tx.select({ id: users.id, closedAt: users.closedAt }).from(users).where(eq(users.email, input.email));
    if (account && account.closedAt === null) return;
    const [pending] = await tx.select({ id: accessRequests.id }).from(accessRequests).where(and(eq(accessRequests.email, input.email), eq(accessRequests.status, "pending")));
    if (pending) return;
    await tx.insert(accessRequests).values({ id: randomId("acr"), email: input.email, message: input.message, ip, createdAt: now, status: "pending" });
  });
  return ACCESS_REQUEST_RECEIVED;
}

export const accessRequestStatusSchema = z.enum(["pending", "approved", "declined"]);
export const accessRequestItemSchema = z.object({
  id: z.string(),
  email: z.string(),
  message: z.string(),
  ip: z.string().nullable(),
  createdAt: z.number(),
  status: accessRequestStatusSchema,
  answeredAt: z.number().nullable(),
  invitationId: z.string().nullable(),
});
export type AccessRequestItem = z.infer<typeof accessRequestItemSchema>;
export const accessRequestListQuerySchema = z.object({ status: accessRequestStatusSchema.default("pending") });
export const accessRequestListSchema = z.object({ items: z.array(accessRequestItemSchema) });

export async function listAccessRequests(status: z.infer<typeof accessRequestStatusSchema> = "pending"): Promise<AccessRequestItem[]> {
  const control = await getControlDb();
  const rows = await control.db.select().from(accessRequests).where(eq(accessRequests.status, status)).orderBy(asc(accessRequests.createdAt));
  return rows.map((row) => accessRequestItemSchema.parse(row));
}

export const accessRequestAnswerSchema = z.object({
  id: z.string(),
  status: accessRequestStatusSchema,
  invitation: z.object({ id: z.string(), expiresAt: z.number() }).nullable(),
  mailed: z.boolean(),
  link: z.string().nullable().describe("the sign-up link, shown only this once, when it was not mailed: pass it on"),
  changed: z.boolean().describe("false when it already was so (no new link is made)"),
});
export type AccessRequestAnswer = z.infer<typeof accessRequestAnswerSchema>;

/**
 * Approves (a sign-up pass for the email, mailed or returned once) or declines a pending
 * request, audited in the same transaction. Idempotent: the same answer again changes nothing;
 * the other answer to an answered request is a 409, an unknown id a 404.
 */
export async function answerAccessRequest(id: string, approve: boolean, actor: Actor, now = Date.now()): Promise<AccessRequestAnswer> {
  const control = await getControlDb();
  const { email, issued, unchanged } = await control.transaction(async (tx) => {
    const [row] = await tx.select().from(accessRequests).where(eq(accessRequests.id, id));
    if (!row) throw notFound("No such access request.");
    const status = approve ? "approved" : "declined";
    if (row.status === status) {
      // Answered so already: nothing changes, and no new link is made (the first one stands).
      await auditControlTx(tx, { actor, action: approve ? "access_request.approved" : "access_request.declined", target: id, details: { changed: false } });
      const [invitation] = row.invitationId ? await tx.select({ id: invitations.id, expiresAt: invitations.expiresAt }).from(invitations).where(eq(invitations.id, row.invitationId)) : [];
      return { email: row.email, issued: null, unchanged: invitation ?? null };
    }
    if (row.status !== "pending") throw new HttpError(409, "already_answered", `This request was already ${row.status}.`);
    let issued: { invitation: Invitation; token: string } | null = null;
    if (approve) issued = await issueInvitationTx(tx, { email: row.email, workspaceId: null, role: null, invitedBy: null, actor }, now);
    await tx
      .update(accessRequests)
      .set({ status: approve ? "approved" : "declined", answeredAt: now, invitationId: issued?.invitation.id ?? null })
      .where(and(eq(accessRequests.id, id), eq(accessRequests.status, "pending")));
    await auditControlTx(tx, { actor, action: approve ? "access_request.approved" : "access_request.declined", target: id, details: issued ? { invitationId: issued.invitation.id } : {} });
    return { email: row.email, issued, unchanged: undefined };
  });
  const delivery = issued ? await deliverInvitation(email, issued.token, { workspaceName: null, role: null }) : { mailed: false, link: null };
  const invitation = issued ? { id: issued.invitation.id, expiresAt: issued.invitation.expiresAt } : (unchanged ?? null);
  return { id, status: approve ? "approved" : "declined", invitation, ...delivery, changed: unchanged === undefined };
}
