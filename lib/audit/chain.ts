import canonicalize from "canonicalize";
import { asc, eq, sql } from "drizzle-orm";
import { auditHead as controlAuditHead, auditLog as controlAuditLog } from "@/db/control/schema";
import { auditHead as workspaceAuditHead, auditLog as workspaceAuditLog } from "@/db/workspace/schema";
import type { Drizzle } from "../db/database";
import { sha256Hex } from "../crypto/secrets";

/**
 * The chain rule, in one place. Each row's `hash` is SHA-256 over the RFC 8785 (JCS) encoding
 * of the row's fields and the previous row's hash, so editing, reordering or deleting a row
 * breaks the chain from that row on. The head (audit_head: the newest seq and hash, written
 * with every append) makes deleting the newest rows visible too. Someone who can write the
 * file can still rewrite rows and head together; the signed checkpoints in the log stream
 * (checkpoint.ts) are what catch that, through `verifyAuditChain(…, { checkpoint })`.
 *
 * The retention sweep (retention.ts) deletes the oldest rows and stores the last deleted row's
 * seq and hash as the chain's anchor (audit_head.anchor_seq/anchor_hash): verification then
 * starts there instead of at seq 1 and the genesis hash. What catches what after a sweep:
 * editing or deleting a kept row (the oldest included) breaks the chain as before; moving the
 * anchor forward together with deleting the rows up to it (a sweep nobody ran) leaves a chain
 * that verifies on its own, and is caught by a signed checkpoint at any seq it skipped, which
 * then lies below the anchor and fails — so a checkpoint older than the anchor never passes.
 */

// Both databases build their tables from the same columns, so one type serves both.
export type AuditTable = typeof controlAuditLog;
export type AuditHeadTable = typeof controlAuditHead;
export type AuditRow = AuditTable["$inferSelect"];
type AnyDrizzle = Drizzle<Record<string, unknown>>;

/** A point in a chain: the head now, or one recorded earlier (a checkpoint). */
export type ChainHead = { seq: number; hash: string };

export const GENESIS_HASH = "0".repeat(64);
/** The head table has exactly one row (a CHECK in the schema). */
export const HEAD_ID = 1;

/** A chain is named by its file: control.db's, or one workspace's. Checkpoints carry this name. */
export type AuditChain = "control" | `workspace:${string}`;
const WORKSPACE_CHAIN_PREFIX = "workspace:";
export const workspaceChain = (workspaceId: string): AuditChain => `${WORKSPACE_CHAIN_PREFIX}${workspaceId}`;
/** The workspace id a chain name carries, or null for control.db's chain and anything else. */
export const workspaceIdOfChain = (chain: string): string | null =>
  chain.startsWith(WORKSPACE_CHAIN_PREFIX) ? chain.slice(WORKSPACE_CHAIN_PREFIX.length) : null;

/** RFC 8785 (JCS): the one encoding everything hashed or signed here goes through. */
export function canonicalJson(value: unknown): string {
  const encoded = canonicalize(value);
  if (encoded === undefined) throw new Error("value cannot be encoded as JSON");
  return encoded;
}

export const rowHash = (row: Omit<AuditRow, "hash">): string => sha256Hex(canonicalJson(row));

export function headTableOf(table: AuditTable): AuditHeadTable {
  if (table === controlAuditLog) return controlAuditHead;
  if (table === workspaceAuditLog) return workspaceAuditHead;
  throw new Error("not an audit table");
}

export async function readAuditHead(db: AnyDrizzle, table: AuditTable): Promise<ChainHead | null> {
  const head = headTableOf(table);
  const [row] = await db.select({ seq: head.seq, hash: head.hash }).from(head).where(eq(head.id, HEAD_ID));
  return row ?? null;
}

/** `anchor` is there once a retention sweep has deleted the oldest rows: where the kept rows start. */
export type ChainVerdict =
  | { ok: true; rows: number; anchor?: ChainHead }
  | { ok: false; rows: number; firstBadSeq: number; reason: string; anchor?: ChainHead };

/**
 * Recomputes the chain from its anchor (the genesis, or the last row a retention sweep
 * deleted), then checks that it ends exactly at the stored head and, given a `checkpoint` (a
 * head recorded earlier), that the row at its seq still has its hash. Reports the first seq
 * that does not fit.
 */
export async function verifyAuditChain(
  db: AnyDrizzle,
  table: AuditTable,
  options: { checkpoint?: ChainHead } = {},
): Promise<ChainVerdict> {
  const { rows, head, anchor } = await readChain(db, table);
  const swept = anchor.seq > 0 ? { anchor } : {};
  const bad = (firstBadSeq: number, reason: string): ChainVerdict => ({ ok: false, rows: rows.length, firstBadSeq, reason, ...swept });
  if (head && anchor.seq > head.seq) return bad(head.seq + 1, `the retention anchor (${anchor.seq}) is past the head (${head.seq})`);
  let prevHash = anchor.hash;
  let expectedSeq = anchor.seq + 1;
  let checkpointHash = options.checkpoint?.seq === anchor.seq ? anchor.hash : undefined;
  for (const { hash, ...rest } of rows) {
    if (rest.seq !== expectedSeq) return bad(rest.seq, `sequence gap: expected ${expectedSeq}`);
    if (rest.prevHash !== prevHash) {
      return bad(rest.seq, rest.seq === anchor.seq + 1 && anchor.seq > 0 ? "prev_hash does not match the retention anchor" : "prev_hash does not match the previous row");
    }
    if (rowHash(rest) !== hash) return bad(rest.seq, "hash does not match the row's contents");
    if (rest.seq === options.checkpoint?.seq) checkpointHash = hash;
    prevHash = hash;
    expectedSeq += 1;
  }
  const last: ChainHead = { seq: expectedSeq - 1, hash: prevHash };
  const endProblem = head ? compareToHead(last, head) : { seq: last.seq, reason: "the chain has no head row (audit_head is empty)" };
  if (endProblem) return bad(endProblem.seq, endProblem.reason);
  const checkpointProblem = options.checkpoint && compareToCheckpoint(options.checkpoint, last, anchor, checkpointHash);
  if (checkpointProblem) return bad(options.checkpoint?.seq ?? 0, checkpointProblem);
  return { ok: true, rows: rows.length, ...swept };
}

type ChainSnapshot = { rows: AuditRow[]; head: ChainHead | null; anchor: ChainHead };

/** Rows, head and anchor from one statement, so one snapshot: an append or a sweep between two reads would look like tampering. */
async function readChain(db: AnyDrizzle, table: AuditTable): Promise<ChainSnapshot> {
  const head = headTableOf(table);
  const joined = await db
    .select({ row: table, headSeq: head.seq, headHash: head.hash, anchorSeq: head.anchorSeq, anchorHash: head.anchorHash })
    .from(head)
    .leftJoin(table, sql`1 = 1`)
    .where(eq(head.id, HEAD_ID))
    .orderBy(asc(table.seq));
  const [first] = joined;
  // Without a head there is no anchor either: the rows are checked from the genesis.
  if (!first) return { rows: await db.select().from(table).orderBy(asc(table.seq)), head: null, anchor: { seq: 0, hash: GENESIS_HASH } };
  return {
    rows: joined.flatMap(({ row }) => (row ? [row] : [])),
    head: { seq: first.headSeq, hash: first.headHash },
    anchor: { seq: first.anchorSeq, hash: first.anchorHash },
  };
}

function compareToHead(last: ChainHead, head: ChainHead): { seq: number; reason: string } | null {
  if (last.seq < head.seq) {
    const missing = last.seq + 1 === head.seq ? `row ${head.seq} is` : `rows ${last.seq + 1}–${head.seq} are`;
    return { seq: last.seq + 1, reason: `${missing} missing: the chain ends at ${last.seq} but its head is at ${head.seq}` };
  }
  if (last.seq > head.seq) return { seq: head.seq + 1, reason: `row ${head.seq + 1} is past the head (${head.seq}): the head was not written with it` };
  if (last.hash !== head.hash) return { seq: head.seq, reason: `row ${head.seq} does not have the head's hash` };
  return null;
}

function compareToCheckpoint(checkpoint: ChainHead, last: ChainHead, anchor: ChainHead, foundHash: string | undefined): string | null {
  // Failing, not passing: a checkpoint the chain can no longer hold proves nothing, and passing
  // it would let whoever moves the anchor past a checkpoint silence it.
  if (checkpoint.seq < anchor.seq) {
    return `checkpoint ${checkpoint.seq}:${checkpoint.hash} is older than the retention anchor (${anchor.seq}): its rows were swept, so the chain can no longer show it holds it; check a checkpoint at or after ${anchor.seq}`;
  }
  const named = `checkpoint ${checkpoint.seq}:${checkpoint.hash} is not in the chain`;
  // `foundHash` is the anchor's for a checkpoint at the anchor (seq 0 and the genesis, before any sweep).
  if (foundHash === undefined) return `${named}: row ${checkpoint.seq} is missing (the chain ends at ${last.seq})`;
  if (foundHash !== checkpoint.hash) return `${named}: row ${checkpoint.seq} has another hash (the chain was rewritten from there or earlier)`;
  return null;
}
