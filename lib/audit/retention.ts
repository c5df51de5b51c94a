import fs from "node:fs";
import { asc, eq, gte, lte, min } from "drizzle-orm";
import { workspaces } from "@/db/control/schema";
import { getConfig } from "../config";
import type { Drizzle } from "../db/database";
import { getControlDb, getStore, withWorkspace } from "../db/store";
import { logger } from "../log/logger";
import { appendAudit, AuditChainError, controlAuditLog, workspaceAuditLog, workspaceChain, type Actor, type AuditChain } from "./audit";
import { HEAD_ID, headTableOf, rowHash, type AuditTable } from "./chain";

/**
 * Audit retention: rows older than ENCLAVE_AUDIT_RETENTION_DAYS leave control.db's chain and
 * every workspace's, and the chain keeps verifying. Only a prefix is ever deleted: the longest
 * run of oldest rows that are all stamped before the cutoff. A clock that stepped back cannot
 * make a hole, and cannot get a recent row deleted early either (a clock reset to 1970 would
 * otherwise sweep the whole chain); a row stamped early waits for its neighbours. In the same
 * transaction the last deleted row's seq and hash become the chain's anchor (where
 * verifyAuditChain starts) and an `audit.retention_sweep` row records it. Each transaction
 * leaves its chain whole, so a crash costs nothing but a rerun, and a rerun deletes nothing more.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows deleted per transaction: bounds the lock held and the rows in memory on a first sweep of a long history. */
const SWEEP_BATCH = 5000;
const RETENTION_ACTOR: Actor = { type: "system", id: "audit-retention" };

type AnyDrizzle = Drizzle<Record<string, unknown>>;
type Transactional = { transaction<T>(fn: (tx: AnyDrizzle) => Promise<T>): Promise<T> };

/**
 * The `audit-retention` job (daily). Sweeps every chain it can find — control.db's, and each
 * workspace in control.db (deleted ones included until their purge) whose file exists — and
 * throws at the end if any could not be swept, after trying all the others.
 */
export async function sweepAuditRetention(now = Date.now()): Promise<{ chains: number; rowsDeleted: number }> {
  const retentionDays = getConfig().ENCLAVE_AUDIT_RETENTION_DAYS;
  const cutoff = now - retentionDays * DAY_MS;
  const control = await getControlDb();
  const figures = { chains: 0, rowsDeleted: 0 };
  const failed: string[] = [];
  const sweep = async (chain: AuditChain, run: () => Promise<number>) => {
    try {
      figures.rowsDeleted += await run();
      figures.chains += 1;
    } catch (error) {
      logger.error({ err: error, chain }, "audit retention could not sweep this chain");
      failed.push(chain);
    }
  };

  await sweep("control", () => sweepChain(control, "control", cutoff, retentionDays));
  const store = getStore();
  for (const { id } of await control.db.select({ id: workspaces.id }).from(workspaces).orderBy(asc(workspaces.id))) {
    // A workspace still being created, or already purged, has no file to sweep.
    if (!fs.existsSync(store.workspaceFile(id))) continue;
    await sweep(workspaceChain(id), async () => {
      try {
        return await withWorkspace(id, (db) => sweepChain(db, workspaceChain(id), cutoff, retentionDays));
      } catch (error) {
        // Purged between the check and the open: nothing left to keep or delete.
        if (!fs.existsSync(store.workspaceFile(id))) return 0;
        throw error;
      }
    });
  }
  if (failed.length > 0) {
    throw new Error(`audit retention swept ${figures.chains} chains (${figures.rowsDeleted} rows) but failed on ${failed.length}: ${failed.join(", ")}`);
  }
  return figures;
}

async function sweepChain(database: Transactional, chain: AuditChain, cutoff: number, retentionDays: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const batch = await database.transaction((tx) => sweepBatch(tx, chain, cutoff, retentionDays));
    deleted += batch;
    if (batch < SWEEP_BATCH) return deleted;
  }
}

/**
 * One transaction: the rows from the anchor up to the first one stamped at or after `cutoff`
 * (at most SWEEP_BATCH of them) are checked, deleted, and replaced by the anchor and a sweep row. Rows
 * that no longer verify are never deleted: that would destroy the evidence of their tampering.
 */
async function sweepBatch(tx: AnyDrizzle, chain: AuditChain, cutoff: number, retentionDays: number): Promise<number> {
  const table: AuditTable = chain === "control" ? controlAuditLog : workspaceAuditLog;
  const headTable = headTableOf(table);
  const [head] = await tx.select().from(headTable).where(eq(headTable.id, HEAD_ID));
  if (!head) throw new AuditChainError("the audit head is missing; run `enclave audit verify`");
  // The prefix ends just before the oldest row stamped at or after the cutoff (or with the head, when every row is older).
  const [recent] = await tx.select({ seq: min(table.seq) }).from(table).where(gte(table.at, cutoff));
  const through = recent?.seq != null ? recent.seq - 1 : head.seq;
  if (through <= head.anchorSeq) return 0;
  const upTo = Math.min(through, head.anchorSeq + SWEEP_BATCH);
  const rows = await tx.select().from(table).where(lte(table.seq, upTo)).orderBy(asc(table.seq));
  let prevHash = head.anchorHash;
  let expectedSeq = head.anchorSeq + 1;
  for (const { hash, ...rest } of rows) {
    if (rest.seq !== expectedSeq || rest.prevHash !== prevHash || rowHash(rest) !== hash || rest.seq > head.seq) {
      throw new AuditChainError(`row ${rest.seq} does not verify, so nothing was swept: run \`enclave audit verify\``);
    }
    prevHash = hash;
    expectedSeq += 1;
  }
  const last = rows.at(-1);
  // Rows missing at the end of the prefix (the head's rows truncated) are a break to report, not to sweep past.
  if (last?.seq !== upTo) throw new AuditChainError(`rows ${last ? last.seq + 1 : head.anchorSeq + 1}–${upTo} are missing, so nothing was swept: run \`enclave audit verify\``);
  await tx.delete(table).where(lte(table.seq, last.seq));
  await tx.update(headTable).set({ anchorSeq: last.seq, anchorHash: last.hash }).where(eq(headTable.id, HEAD_ID));
  await appendAudit(tx, chain, {
    actor: RETENTION_ACTOR,
    action: "audit.retention_sweep",
    details: { deleted: rows.length, anchorSeq: last.seq, anchorHash: last.hash, cutoff, retentionDays },
  });
  return rows.length;
}
