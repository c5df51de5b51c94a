import { auditControl, auditWorkspace, workspaceChain, type Actor, type AuditEntry } from "../audit/audit";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { mayRecordDenial } from "../http/rate-limits";
import { logger } from "../log/logger";
import { getRequestContext } from "../log/request-context";
import { actorOf, principalLabel, type Principal } from "./principal";
import type { Scope } from "./scopes";

/**
 * Refused access, in the audit trail (authorize.ts calls these; nothing else should):
 *   - a scope the principal lacks in a workspace it can see: `access.denied` in that
 *     workspace's chain, which its admins read;
 *   - a workspace it cannot see (another tenant's id, one it left): `access.denied` in
 *     control.db's chain, reason `not_visible`, since writing to that workspace's chain would
 *     tell its admins about a stranger and confirm to nobody that it exists. Only for
 *     authenticated principals other than the operator (who sees every workspace, so a miss
 *     is a typo) and for well-formed ids: junk and anonymous 401s are in the request log only.
 * Each principal has a budget of rows per minute per chain (rate-limits.ts); refusals past it
 * are counted, and the next row recorded says how many it stands for (`unrecorded`), so a
 * flood of refused calls cannot grow a chain faster than the budget, and none goes unnoticed.
 * Recording never throws: the request is refused either way, and a failed append is logged.
 */

/** What was asked for, named by the caller: a REST operationId, `tool:<name>` on MCP. */
export type Attempt = string | undefined;

// Refusals past the budget, by chain and principal, until a row carries them. Bounded: a
// count is only kept for principals that ran out, and a full map counts no more of them.
const MAX_COUNTED = 10_000;
// On globalThis: the custom server (machine endpoints) and Next's bundle (the portal) each load this module.
const globalForDenials = globalThis as unknown as { enclaveUnrecordedDenials?: Map<string, number> };
const unrecorded = (globalForDenials.enclaveUnrecordedDenials ??= new Map<string, number>());

async function record(chain: string, label: string, entry: (unrecordedBefore: number) => AuditEntry, append: (entry: AuditEntry) => Promise<void>): Promise<void> {
  const key = `${chain}|${label}`;
  try {
    if (!(await mayRecordDenial(key))) {
      const count = (unrecorded.get(key) ?? 0) + 1;
      if (unrecorded.has(key) || unrecorded.size < MAX_COUNTED) unrecorded.set(key, count);
      // Once per run of them: each refusal is in the request log already.
      if (count === 1) logger.warn({ chain, actor: label, requestId: getRequestContext()?.requestId }, "access.denied over its audit budget: further refusals are counted, not recorded");
      return;
    }
    // Taken before the append: refusals counted while it runs belong to the next row.
    const before = unrecorded.get(key) ?? 0;
    unrecorded.delete(key);
    try {
      await append(entry(before));
    } catch (error) {
      if (before > 0) unrecorded.set(key, (unrecorded.get(key) ?? 0) + before);
      throw error;
    }
  } catch (error) {
    logger.error({ err: error, chain, actor: label, requestId: getRequestContext()?.requestId }, "could not record access.denied");
  }
}

const extra = (attempted: Attempt, unrecordedBefore: number) => ({
  ...(attempted !== undefined && { attempted }),
  ...(unrecordedBefore > 0 && { unrecordedBefore }),
});

/** A scope the principal lacks in a workspace it can see. */
export function recordScopeDenial(grant: { workspaceId: string; actor: Actor; label: string }, scope: Scope, attempted: Attempt): Promise<void> {
  return record(
    workspaceChain(grant.workspaceId),
    grant.label,
    (before) => ({ actor: grant.actor, action: "access.denied", target: attempted ?? null, details: { reason: "insufficient_scope", scope, ...extra(attempted, before) } }),
    (entry) => auditWorkspace(grant.workspaceId, entry),
  );
}

/** A workspace the principal cannot see (answered 404). */
export async function recordNotVisible(principal: Principal, workspaceId: string, attempted: Attempt): Promise<void> {
  if (principal.kind === "operator" || !WORKSPACE_ID_PATTERN.test(workspaceId)) return;
  await record(
    "control",
    principalLabel(principal),
    (before) => ({ actor: actorOf(principal), action: "access.denied", target: workspaceId, details: { reason: "not_visible", ...extra(attempted, before) } }),
    auditControl,
  );
}

/**
 * A call on /api/operator refused for its credentials (missing, malformed, not the live
 * operator token): `operator.auth_failed` in control.db's chain, under one budget for all of
 * them, whoever sends them. Never the presented value: a near-miss of the real token is half a leak.
 */
export function recordOperatorAuthRefusal(problem: "missing" | "malformed" | "invalid"): Promise<void> {
  return record(
    "control",
    "operator-auth",
    (before) => ({ actor: { type: "anonymous" }, action: "operator.auth_failed", target: null, details: { problem, ...extra(undefined, before) } }),
    auditControl,
  );
}

/**
 * A webhook delivery refused before its signature verified (bad or missing signature headers,
 * a stale timestamp, a body over the cap): `webhook.rejected` in control.db's chain, budgeted
 * per provider and client IP so a flood of forgeries cannot fill the audit log. Never the body
 * or the presented signature.
 */
export function recordWebhookRejection(provider: "clerk" | "razorpay", ip: string, reason: string): Promise<void> {
  return record(
    "control",
    `webhook:${provider}:${ip}`,
    (before) => ({ actor: { type: "anonymous" }, action: "webhook.rejected", target: provider, details: { reason, ip, ...extra(undefined, before) } }),
    auditControl,
  );
}
