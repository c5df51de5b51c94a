import { eq } from "drizzle-orm";
import { auditLog as controlAuditLog, type SubscriptionRow } from "@/db/control/schema";
import { auditLog as workspaceAuditLog } from "@/db/workspace/schema";
import type { Drizzle } from "../db/database";
import { getControlDb, withWorkspace } from "../db/store";
import { getRequestContext, type RequestContext } from "../log/request-context";
import { capDetails } from "./details";
import { canonicalJson, HEAD_ID, headTableOf, readAuditHead, rowHash, workspaceChain, type AuditChain, type AuditRow } from "./chain";

/**
 * The audit writer: one append-only, hash-chained table in control.db and one in each
 * workspace.db, each with its head (chain.ts says how rows are hashed and verified). It also
 * remembers which chains this process wrote, so the checkpoint emitter signs only those.
 */
export type AuditAction =
  | "user.sign_up"
  | "user.sign_in"
  | "user.sign_in_failed"
  | "user.sign_out"
  | "user.create"
  | "mfa.setup_started"
  | "mfa.enabled"
  | "mfa.disabled"
  | "mfa.backup_code_used"
  | "workspace.create"
  | "token.issue"
  | "token.revoke"
  | "member.add"
  | "member.role_change"
  | "member.remove"
  // Who may join (lib/access/invitations.ts, lib/access/access-requests.ts).
  | "invitation.created"
  | "invitation.revoked"
  | "invitation.accepted"
  | "access_request.approved"
  | "access_request.declined"
  | "operator.access_requests_list"
  | "knowledge.delete"
  | "artifact.delete"
  | "redaction.applied"
  | "redaction.settings_change"
  | "oauth.client_register"
  | "oauth.consent"
  | "oauth.consent_denied"
  | "oauth.token_issue"
  | "oauth.token_refresh"
  | "oauth.code_reuse"
  | "oauth.refresh_reuse"
  | "oauth.grant_revoke"
  | "account.reauth"
  | "account.reauth_failed"
  | "account.export"
  | "account.closure_requested"
  | "account.closure_cancelled"
  | "account.purged"
  | "session.revoke_all"
  // Account basics in local mode: one session ended by its person, password change and reset, email verification.
  | "session.revoke"
  | "account.password_changed"
  | "account.password_change_failed"
  | "account.password_reset_requested"
  | "account.password_reset"
  | "account.email_verification_sent"
  | "account.email_verified"
  | "workspace.transfer"
  | "workspace.delete"
  | "workspace.restore"
  | "workspace.purge"
  | "workspace.export"
  | "workspace.import"
  | "workspace.taken_offline"
  | "workspace.restore_from_backup"
  | "audit.retention_sweep"
  | "audit.evidence_export"
  | "backup.run"
  | "access.denied"
  | "key.rotate"
  // The operator token and every call on the operator API (lib/api/operator-route.ts).
  | "operator.token_issue"
  | "operator.token_revoke"
  | "operator.auth_failed"
  | "operator.refused"
  | "operator.status"
  | "operator.workspaces_list"
  | "operator.job_run"
  | "operator.user_suspend"
  | "operator.user_unsuspend"
  | "operator.audit_verify"
  // The readable trail: every write through any surface, and every MCP tool call.
  | "knowledge.create"
  | "knowledge.update"
  | "session.write"
  | "event.publish"
  | "artifact.put"
  | "link.create"
  | "mcp.tool_call"
  // Clerk mode (lib/auth/clerk-users.ts, lib/webhooks/clerk.ts) and signed webhooks.
  | "clerk.user_linked"
  | "clerk.user_refused"
  | "clerk.email_changed"
  | "clerk.email_conflict"
  | "clerk.session_ended"
  | "webhook.rejected"
  // Billing, the owner's side (lib/workspace/billing.ts).
  | "billing.subscription_created"
  | "billing.checkout_verified"
  | "billing.checkout_rejected"
  | "billing.cancel_scheduled"
  | "billing.subscription_resumed"
  // Razorpay's webhooks (lib/webhooks/razorpay.ts, lib/billing/subscription-events.ts).
  | "billing.webhook_unknown_subscription"
  | "billing.webhook_mismatch"
  | `billing.subscription_${SubscriptionStatus}`
  // A deletion or closure owes Razorpay a cancellation (lib/billing/cancellation.ts).
  | "billing.cancellation_owed";

type SubscriptionStatus = SubscriptionRow["status"];

export type Actor = { type: "user" | "system" | "token" | "oauth" | "anonymous"; id?: string | null };

export type AuditEntry = {
  actor: Actor;
  action: AuditAction;
  target?: string | null;
  details?: Record<string, unknown>;
};

type AnyDrizzle = Drizzle<Record<string, unknown>>;

const tableOf = (chain: AuditChain) => (chain === "control" ? controlAuditLog : workspaceAuditLog);

/** The chain cannot take a row without hiding what happened to it: refuse the act instead. */
export class AuditChainError extends Error {
  override name = "AuditChainError";
}

/**
 * Appends one row inside the caller's transaction, so the act and its record commit together,
 * and moves the head in the same transaction. The new row follows the stored head, not the
 * newest row: after the newest rows were deleted, the next row leaves a visible gap instead of
 * quietly closing it. Transactions are BEGIN IMMEDIATE, so no other writer, in this process or
 * another, runs between the head read and the head write. Details are bounded (details.ts):
 * whoever passes client text redacts it first.
 */
export const appendAudit = (tx: AnyDrizzle, chain: AuditChain, entry: AuditEntry): Promise<void> =>
  appendAuditRows(tx, chain, [{ entry, origin: getRequestContext() }]);

/** Where a row's request came from: its id, address and user agent (none outside a request). */
export type AuditOrigin = Pick<RequestContext, "requestId" | "ip" | "userAgent"> | undefined;

// Well under SQLite's limit on bound variables (12 columns a row).
const INSERT_CHUNK = 500;

/**
 * Appends rows in order, as appendAudit does one: one head read, one insert, one head write,
 * for a batch gathered from several requests (each with its own origin).
 */
export async function appendAuditRows(tx: AnyDrizzle, chain: AuditChain, rows: readonly { entry: AuditEntry; origin: AuditOrigin }[]): Promise<void> {
  if (rows.length === 0) return;
  const table = tableOf(chain);
  const headTable = headTableOf(table);
  const head = await readAuditHead(tx, table);
  if (!head) throw new AuditChainError("the audit head is missing; run `enclave audit verify` and restore the database from a backup");
  let last = head;
  const values: AuditRow[] = rows.map(({ entry, origin }) => {
    const row: Omit<AuditRow, "hash"> = {
      seq: last.seq + 1,
      at: Date.now(),
      actorType: entry.actor.type,
      actorId: entry.actor.id ?? null,
      action: entry.action,
      target: entry.target ?? null,
      ip: origin?.ip ?? null,
      userAgent: origin?.userAgent ?? null,
      requestId: origin?.requestId ?? null,
      details: canonicalJson(capDetails(entry.details ?? {})),
      prevHash: last.hash,
    };
    last = { seq: row.seq, hash: rowHash(row) };
    return { ...row, hash: last.hash };
  });
  for (let at = 0; at < values.length; at += INSERT_CHUNK) await tx.insert(table).values(values.slice(at, at + INSERT_CHUNK));
  await tx.update(headTable).set(last).where(eq(headTable.id, HEAD_ID));
  writtenChains.add(chain);
}

// Kept on globalThis: Next's bundle appends and the custom server emits checkpoints, each with
// its own copy of this module. Noted before the commit; a rolled-back append only costs an
// extra checkpoint of an unchanged head.
const globalForChains = globalThis as unknown as { enclaveWrittenAuditChains?: Set<AuditChain> };
const writtenChains = (globalForChains.enclaveWrittenAuditChains ??= new Set<AuditChain>());

/** The chains this process appended to since the last call, forgotten as they are handed over. */
export function takeWrittenChains(): AuditChain[] {
  const chains = [...writtenChains];
  writtenChains.clear();
  return chains;
}

export const auditControlTx = (tx: AnyDrizzle, entry: AuditEntry) => appendAudit(tx, "control", entry);
export const auditWorkspaceTx = (tx: AnyDrizzle, workspaceId: string, entry: AuditEntry) => appendAudit(tx, workspaceChain(workspaceId), entry);

/** Audits an act that has no transaction of its own (a failed sign-in, a sign-out). */
export async function auditControl(entry: AuditEntry): Promise<void> {
  const control = await getControlDb();
  await control.transaction((tx) => auditControlTx(tx, entry));
}

export async function auditWorkspace(workspaceId: string, entry: AuditEntry): Promise<void> {
  await withWorkspace(workspaceId, (db) => db.transaction((tx) => auditWorkspaceTx(tx, workspaceId, entry)));
}

export { GENESIS_HASH, verifyAuditChain, workspaceChain, type AuditChain, type ChainVerdict } from "./chain";
export { controlAuditLog, workspaceAuditLog };
