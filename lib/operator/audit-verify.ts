import { asc } from "drizzle-orm";
import { z } from "zod";
import { workspaces } from "@/db/control/schema";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "../audit/audit";
import { readAuditHead, workspaceChain, type AuditTable } from "../audit/chain";
import type { Drizzle } from "../db/database";
import { getControlDb, withWorkspace } from "../db/store";
import { logger } from "../log/logger";

/**
 * GET /api/operator/audit/verify: every hash chain on this instance — control.db's and each
 * workspace's, deleted ones awaiting purge included — verified as `enclave audit verify`
 * verifies one. A file that cannot be read is reported as such and the rest go on.
 */
const chainVerdictSchema = z.object({
  chain: z.string().describe("`control` or `workspace:<id>`"),
  ok: z.boolean(),
  rows: z.number(),
  head: z.string().nullable().describe("`seq:hash` of the chain's head"),
  reason: z.string().nullable(),
  firstBadSeq: z.number().nullable(),
});
export const auditVerifyReportSchema = z.object({ ok: z.boolean(), chains: z.array(chainVerdictSchema) });
export type AuditVerifyReport = z.infer<typeof auditVerifyReportSchema>;
type ChainReport = z.infer<typeof chainVerdictSchema>;

// Each chain is read whole: a few at a time keeps memory and the thread pool bounded.
const CONCURRENCY = 4;

async function verifyChain(chain: string, db: Drizzle<Record<string, unknown>>, table: AuditTable): Promise<ChainReport> {
  // The head first: if the server appends meanwhile, the head reported is still in the chain verified.
  const head = await readAuditHead(db, table);
  const verdict = await verifyAuditChain(db, table);
  return {
    chain,
    ok: verdict.ok,
    rows: verdict.rows,
    head: head ? `${head.seq}:${head.hash}` : null,
    reason: verdict.ok ? null : verdict.reason,
    firstBadSeq: verdict.ok ? null : verdict.firstBadSeq,
  };
}

/** What an operator reads for a file that would not open: its error's code, never SQL or a stack. */
function unreadable(chain: string, error: unknown): ChainReport {
  const code = (error as { code?: unknown }).code;
  logger.error({ err: error, chain }, "audit verify could not read a chain");
  return { chain, ok: false, rows: 0, head: null, reason: `could not read the file (${typeof code === "string" ? code : "error"})`, firstBadSeq: null };
}

async function inPool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

export async function verifyEveryAuditChain(): Promise<AuditVerifyReport> {
  const control = await getControlDb();
  const controlReport = await verifyChain("control", control.db, controlAuditLog).catch((error: unknown) => unreadable("control", error));
  const rows = await control.db.select({ id: workspaces.id, offlineSince: workspaces.offlineSince }).from(workspaces).orderBy(asc(workspaces.id));
  const workspaceReports = await inPool(rows, CONCURRENCY, async ({ id, offlineSince }) => {
    const chain = workspaceChain(id);
    if (offlineSince !== null) return { chain, ok: false, rows: 0, head: null, reason: "offline: a restore is swapping its file", firstBadSeq: null };
    return withWorkspace(id, (db) => verifyChain(chain, db.db, workspaceAuditLog)).catch((error: unknown) => unreadable(chain, error));
  });
  const chains = [controlReport, ...workspaceReports];
  return { ok: chains.every((chain) => chain.ok), chains };
}
