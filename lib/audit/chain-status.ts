import { LRUCache } from "lru-cache";
import type { Drizzle } from "../db/database";
import { readAuditHead, verifyAuditChain, type AuditChain, type AuditTable, type ChainHead } from "./chain";

/**
 * "Verified through #N", for the pages and endpoints that show an audit trail. Verifying
 * replays the whole chain (every row hashed again), so a verdict is kept per chain and reused
 * while the head has not moved, or for up to a minute when it has: a busy workspace, whose
 * head moves with every tool call, is replayed at most once a minute however often its trail
 * is read, and the status says which seq it covers and when it was checked. `enclave audit
 * verify` is the full check; this is what a reader sees at a glance.
 */
export type ChainStatus = {
  ok: boolean;
  /** Every row up to this seq replayed and matched (0: none yet). */
  verifiedThrough: number;
  /** The newest seq now, which may be past verifiedThrough by the rows added since. */
  headSeq: number;
  /** When the chain does not verify: the first row that does not fit, and why. */
  problem: { seq: number; reason: string } | null;
  checkedAt: number;
};

export const CHAIN_STATUS_MAX_AGE_MS = 60_000;

type AnyDrizzle = Drizzle<Record<string, unknown>>;
type Verdict = Omit<ChainStatus, "headSeq"> & { head: ChainHead | null };

const globalForStatus = globalThis as unknown as { enclaveChainStatus?: LRUCache<string, Verdict>; enclaveChainChecks?: Map<string, Promise<Verdict>> };
const verdicts = (globalForStatus.enclaveChainStatus ??= new LRUCache<string, Verdict>({ max: 1000 }));
// One replay per chain at a time: readers arriving meanwhile wait for it.
const checks = (globalForStatus.enclaveChainChecks ??= new Map<string, Promise<Verdict>>());

const sameHead = (a: ChainHead | null, b: ChainHead | null) => a?.seq === b?.seq && a?.hash === b?.hash;

async function verify(db: AnyDrizzle, table: AuditTable, head: ChainHead | null, now: number): Promise<Verdict> {
  const verdict = await verifyAuditChain(db, table);
  // The replay read rows and head in one snapshot, at or past `head`: so at least `head` is covered.
  if (verdict.ok) return { ok: true, verifiedThrough: head?.seq ?? 0, problem: null, checkedAt: now, head };
  return { ok: false, verifiedThrough: Math.max(0, verdict.firstBadSeq - 1), problem: { seq: verdict.firstBadSeq, reason: verdict.reason }, checkedAt: now, head };
}

export async function chainStatus(db: AnyDrizzle, table: AuditTable, chain: AuditChain, now = Date.now()): Promise<ChainStatus> {
  const head = await readAuditHead(db, table);
  let verdict = verdicts.get(chain);
  if (!verdict || (!sameHead(verdict.head, head) && now - verdict.checkedAt >= CHAIN_STATUS_MAX_AGE_MS)) {
    let check = checks.get(chain);
    if (!check) {
      check = verify(db, table, head, now).finally(() => checks.delete(chain));
      checks.set(chain, check);
    }
    verdict = await check;
    verdicts.set(chain, verdict);
  }
  return { ok: verdict.ok, verifiedThrough: verdict.verifiedThrough, problem: verdict.problem, checkedAt: verdict.checkedAt, headSeq: head?.seq ?? 0 };
}

/** Tests, and a restore: forget every kept verdict. */
export const forgetChainStatus = () => verdicts.clear();
