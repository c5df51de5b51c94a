import canonicalize from "canonicalize";
import { desc, asc } from "drizzle-orm";
import { auditLog as controlAuditLog } from "@/db/control/schema";
import { auditLog as workspaceAuditLog } from "@/db/workspace/schema";
import type { Drizzle } from "../db/database";
import { getControlDb, withWorkspace } from "../db/store";
import { sha256Hex } from "../crypto/tokens";
import { getRequestContext } from "../http/context";

/**
 * The audit trail: one append-only, hash-chained table in control.db and one in each
 * workspace.db. Each row's `hash` is SHA-256 over the RFC 8785 (JCS) encoding of the row's
 * fields and the previous row's hash, so editing, reordering or deleting a row breaks the
 * chain from that row on; `verifyAuditChain` finds the first row where it breaks.
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
  | "oauth.grant_revoke";

export type Actor = { type: "user" | "system" | "token" | "oauth" | "anonymous"; id?: string | null };

export type AuditEntry = {
  actor: Actor;
  action: AuditAction;
  target?: string | null;
  details?: Record<string, unknown>;
};

// Both databases build the table from the same columns, so one type serves both.
type AuditTable = typeof controlAuditLog;
type AuditRow = AuditTable["$inferSelect"];
type AnyDrizzle = Drizzle<Record<string, unknown>>;

export const GENESIS_HASH = "0".repeat(64);

function rowHash(row: Omit<AuditRow, "hash">): string {
  const encoded = canonicalize(row);
  if (encoded === undefined) throw new Error("audit row cannot be encoded");
  return sha256Hex(encoded);
}

/** Appends one row inside the caller's transaction, so the act and its record commit together. */
export async function appendAudit(tx: AnyDrizzle, table: AuditTable, entry: AuditEntry): Promise<void> {
  const context = getRequestContext();
  const [last] = await tx.select({ seq: table.seq, hash: table.hash }).from(table).orderBy(desc(table.seq)).limit(1);
  const row: Omit<AuditRow, "hash"> = {
    seq: (last?.seq ?? 0) + 1,
    at: Date.now(),
    actorType: entry.actor.type,
    actorId: entry.actor.id ?? null,
    action: entry.action,
    target: entry.target ?? null,
    ip: context?.ip ?? null,
    userAgent: context?.userAgent ?? null,
    requestId: context?.requestId ?? null,
    details: canonicalize(entry.details ?? {}) ?? "{}",
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  await tx.insert(table).values({ ...row, hash: rowHash(row) });
}

export const auditControlTx = (tx: AnyDrizzle, entry: AuditEntry) => appendAudit(tx, controlAuditLog, entry);

/** Audits an act that has no transaction of its own (a failed sign-in, a sign-out). */
export async function auditControl(entry: AuditEntry): Promise<void> {
  const control = await getControlDb();
  await control.transaction((tx) => auditControlTx(tx, entry));
}

export async function auditWorkspace(workspaceId: string, entry: AuditEntry): Promise<void> {
  await withWorkspace(workspaceId, (db) => db.transaction((tx) => appendAudit(tx, workspaceAuditLog, entry)));
}

export type ChainVerdict = { ok: true; rows: number } | { ok: false; rows: number; firstBadSeq: number; reason: string };

/** Recomputes the chain from the first row; reports the first row that does not fit. */
export async function verifyAuditChain(db: AnyDrizzle, table: AuditTable): Promise<ChainVerdict> {
  const rows = await db.select().from(table).orderBy(asc(table.seq));
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const { hash, ...rest } of rows) {
    const bad = (reason: string): ChainVerdict => ({ ok: false, rows: rows.length, firstBadSeq: rest.seq, reason });
    if (rest.seq !== expectedSeq) return bad(`sequence gap: expected ${expectedSeq}`);
    if (rest.prevHash !== prevHash) return bad("prev_hash does not match the previous row");
    if (rowHash(rest) !== hash) return bad("hash does not match the row's contents");
    prevHash = hash;
    expectedSeq += 1;
  }
  return { ok: true, rows: rows.length };
}

export { controlAuditLog, workspaceAuditLog };
