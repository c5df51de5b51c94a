import type { WorkspaceAccess, WorkspaceGrant } from "../access/authorize";
import { appendAuditRows, auditWorkspaceTx, workspaceChain, type AuditAction, type AuditOrigin } from "../audit/audit";
import { limitJson, type JsonLimits } from "../audit/details";
import type { Drizzle } from "../db/database";
import { withWorkspace } from "../db/store";
import { getRequestContext } from "../log/request-context";
import type { WorkspaceSchema } from "@/db/workspace/schema";
import { redactJson, redactText, type RedactionPolicy, type RedactionReport } from "./redaction";
import { redactionPolicy } from "./redaction-settings";

/**
 * What the workspace audit trail records of writes and MCP tool calls, and how client text is
 * made fit for it. Client JSON is bounded, then redacted (values and keys), and only then cut
 * to row size by appendAudit: cutting first could split a secret into a piece no detector
 * recognises. A string too long to scan whole is not recorded at all, for the same reason.
 */
type Tx = Drizzle<WorkspaceSchema>;

const SCAN_LIMITS: JsonLimits = { string: 4096, long: "omit", items: 20, keys: 30, depth: 5 };

// A workspace at `off` chose to store secrets as sent; its audit trail, kept for 13 months and
// signed into evidence bundles, did not. So rows are redacted at standard at least, with the
// workspace's own patterns. Keyed by policy object: redaction-settings.ts caches those.
const floored = new WeakMap<RedactionPolicy, RedactionPolicy>();

export function auditPolicyOf(policy: RedactionPolicy): RedactionPolicy {
  if (policy.level !== "off") return policy;
  let raised = floored.get(policy);
  if (!raised) floored.set(policy, (raised = Object.freeze({ level: "standard" as const, custom: policy.custom })));
  return raised;
}

function redactKeys(value: unknown, policy: RedactionPolicy): unknown {
  if (Array.isArray(value)) return value.map((item) => redactKeys(item, policy));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [redactText(key, policy).text, redactKeys(item, policy)]));
}

/** Client JSON (tool arguments, a name) as an audit row may hold it: bounded, then every string and key redacted. */
export function auditableJson(value: unknown, workspacePolicy: RedactionPolicy): unknown {
  const policy = auditPolicyOf(workspacePolicy);
  return redactKeys(redactJson(limitJson(value, SCAN_LIMITS), policy).value, policy);
}

type WriteRecord = { action: AuditAction; target: string; details?: Record<string, unknown> };

/**
 * The record of one write, appended inside the write's own transaction so the two commit
 * together. It says what was written, never the content, and what redaction took out of it
 * (kinds and count, never the secret). `policy` is the one the write was redacted with.
 */
export async function auditWrite(tx: Tx, access: WorkspaceAccess, record: WriteRecord, redaction: { policy: RedactionPolicy; report: RedactionReport }): Promise<void> {
  const { report } = redaction;
  await auditWorkspaceTx(tx, access.workspaceId, {
    actor: access.actor,
    action: record.action,
    // Names are the client's: one could be a pasted token.
    target: redactText(record.target, auditPolicyOf(redaction.policy)).text,
    details: {
      ...(auditableJson(record.details ?? {}, redaction.policy) as Record<string, unknown>),
      ...(report.count > 0 && { redaction: { count: report.count, kinds: report.kinds } }),
    },
  });
}

/** One `tools/call` as it ended: `error` is the code a refusal or failure named. */
export type ToolCallOutcome = { tool: string; known: boolean; arguments: unknown; error: string | null };

type QueuedCalls = { grant: WorkspaceGrant; calls: readonly ToolCallOutcome[]; origin: AuditOrigin; resolve: () => void; reject: (error: unknown) => void };
type Queue = { waiting: QueuedCalls[] };

/**
 * One `mcp.tool_call` row per call in a request, appended after the calls ran (a write a tool
 * made has its own row, from the write's transaction, with the same request id); resolves
 * once the rows are committed, so the answer leaves only after its record.
 *
 * Group commit: a transaction of its own costs about as much as a search (six statements and a
 * WAL sync), so the rows of requests that arrive while a workspace's last batch is committing
 * wait and go in together: one transaction, one insert (appendAuditRows). Each row keeps its
 * own request's id and address.
 */
export function auditToolCalls(grant: WorkspaceGrant, calls: readonly ToolCallOutcome[]): Promise<void> {
  if (calls.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const item: QueuedCalls = { grant, calls, origin: getRequestContext(), resolve, reject };
    const queue = queues.get(grant.workspaceId);
    if (queue) {
      queue.waiting.push(item);
      return;
    }
    const fresh: Queue = { waiting: [item] };
    queues.set(grant.workspaceId, fresh);
    void drain(grant.workspaceId, fresh);
  });
}

const queues = new Map<string, Queue>();

async function drain(workspaceId: string, queue: Queue): Promise<void> {
  try {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0);
      try {
        await appendToolCalls(workspaceId, batch);
        for (const item of batch) item.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]?.reject(error);
        // One bad request's rows must not take the others down: each alone, then.
        else for (const item of batch) await appendToolCalls(workspaceId, [item]).then(item.resolve, item.reject);
      }
    }
  } finally {
    // Nothing awaits between the last empty check and here, so no call can be left waiting.
    queues.delete(workspaceId);
  }
}

function appendToolCalls(workspaceId: string, batch: readonly QueuedCalls[]): Promise<void> {
  return withWorkspace(workspaceId, (db) =>
    db.transaction(async (tx) => {
      const policy = await redactionPolicy(tx);
      const rows = batch.flatMap(({ grant, calls, origin }) =>
        calls.map((call) => ({
          origin,
          entry: {
            actor: grant.actor,
            action: "mcp.tool_call" as const,
            target: call.known ? call.tool : null,
            details: {
              tool: call.known ? call.tool : auditableJson(call.tool, policy),
              arguments: auditableJson(call.arguments ?? {}, policy),
              outcome: call.error === null ? "ok" : "error",
              ...(call.error !== null && { error: call.error }),
            },
          },
        })),
      );
      await appendAuditRows(tx, workspaceChain(workspaceId), rows);
    }),
  );
}
