import { createHash, sign } from "node:crypto";
import { Readable } from "node:stream";
import { and, asc, eq, gte, lt, lte, max, min } from "drizzle-orm";
import { ZipFile } from "yazl";
import type { Drizzle } from "../db/database";
import { getStore } from "../db/store";
import { HttpError } from "../http/errors";
import { AuditChainError, auditControl, auditWorkspace, controlAuditLog, workspaceAuditLog, type Actor, type AuditEntry } from "./audit";
import { canonicalJson, HEAD_ID, headTableOf, rowHash, workspaceChain, type AuditChain, type AuditTable, type ChainHead } from "./chain";
import { auditSigner, publicKeyPem } from "./checkpoint";
import { periodBounds, type EvidencePeriod } from "./evidence-period";

/**
 * A signed evidence bundle: one chain's rows for a period, which an auditor checks offline
 * with bin/enclave-verify.mjs and the audit public key alone. A ZIP of three stored entries:
 *
 *   manifest.json   what the bundle claims: chain, period, the anchor (the row before the
 *                   period: seq and hash) and the head (the period's last row), the row count
 *                   and first/last seq, the SHA-256 of rows.jsonl, the signing key's id and PEM
 *   rows.jsonl      the rows, one RFC 8785 (JCS) object per line, every column, hash and
 *                   prev_hash included: each row's hash is SHA-256 of its JCS without `hash`
 *   signature.json  Ed25519 (the audit signing key, as checkpoints) over manifest.json's bytes
 *
 * Deterministic: the same rows give the same bytes. Entry order, mode and mtime (1980-01-01)
 * are fixed, nothing is compressed, and nothing says when the bundle was made. The period is
 * the run of seqs from the first row stamped on or after `from` to the last row stamped before
 * the end of `to`, so it is contiguous even if the clock once stepped back. The export is
 * audited in the chain it exports, after the period's last row: a closed period's bundle never
 * changes, while one ending today changes when rows are appended — the previous export's own
 * row included.
 *
 * Rows are read twice, a page at a time, so no bundle is ever whole in memory: once to hash
 * and count them (the manifest comes first in the file), once to stream them. The first pass
 * also replays the chain, so a broken chain is refused rather than signed; the second is
 * checked against the first, so a sweep meanwhile breaks the download instead of the bundle.
 */
export const EVIDENCE_FORMAT = "enclave-audit-evidence/1";
export const EVIDENCE_ENTRIES = { manifest: "manifest.json", rows: "rows.jsonl", signature: "signature.json" } as const;
const PAGE_ROWS = 1000;
const MAX_ROWS_BYTES = 0xfffffffe;
// Local time on purpose: yazl writes the DOS date from local fields (clamped at its own local
// 1980-01-01), and forceDosTimestamp leaves out the UTC extra field, so a machine in any time
// zone writes the same bytes.
const ENTRY_OPTIONS = { mtime: new Date(1980, 0, 1), mode: 0o100644, compress: false, forceDosTimestamp: true };

/**
 * Whose chain, and who is exporting it. Callers have checked access already: the operator's CLI
 * for any chain, a person through lib/workspace/audit-evidence.ts, which takes the `audit` grant.
 */
export type EvidenceSource = { kind: "control"; actor: Actor } | { kind: "workspace"; workspaceId: string; actor: Actor };

export type EvidenceManifest = {
  format: typeof EVIDENCE_FORMAT;
  chain: AuditChain;
  workspaceId: string | null;
  period: { from: string; to: string };
  rows: { file: string; count: number; firstSeq: number | null; lastSeq: number | null; sha256: string };
  anchor: ChainHead;
  head: ChainHead;
  signing: { algorithm: "Ed25519"; keyId: string; publicKey: string };
};

export type EvidenceBundle = {
  manifest: EvidenceManifest;
  fileName: string;
  /** The ZIP's exact length, known before the first byte. */
  size: number;
  stream: Readable;
};

type AnyDrizzle = Drizzle<Record<string, unknown>>;
type ChainSource = {
  chain: AuditChain;
  workspaceId: string | null;
  table: AuditTable;
  actor: Actor;
  /** Each read opens the handle afresh: the stream outlives any one request's hold on it. */
  read<T>(fn: (db: AnyDrizzle) => Promise<T>): Promise<T>;
  audit(entry: AuditEntry): Promise<void>;
};

function chainSource(source: EvidenceSource): ChainSource {
  // The store as it is now: a download still streaming at shutdown must fail, not open a new store.
  const store = getStore();
  if (source.kind === "control") {
    return {
      chain: "control",
      workspaceId: null,
      table: controlAuditLog,
      actor: source.actor,
      read: async (fn) => fn((await store.control).db),
      audit: auditControl,
    };
  }
  const { workspaceId, actor } = source;
  return {
    chain: workspaceChain(workspaceId),
    workspaceId,
    table: workspaceAuditLog,
    actor,
    read: (fn) => store.withWorkspace(workspaceId, (db) => fn(db.db)),
    audit: (entry) => auditWorkspace(workspaceId, entry),
  };
}

/** The audit key's id and PEM, for pages that tell an auditor what to verify with. */
export function evidenceSigningKey(): { keyId: string; publicKeyPem: string } {
  const signer = auditSigner(getStore().masterKey);
  return { keyId: signer.keyId, publicKeyPem: publicKeyPem(signer.publicKey) };
}

/** Builds the bundle's manifest and signature, audits the export, and hands back the ZIP as a stream. */
export async function buildEvidenceBundle(source: EvidenceSource, period: EvidencePeriod): Promise<EvidenceBundle> {
  const chain = chainSource(source);
  const range = await periodRange(chain, period);
  const rowsDigest = createHash("sha256");
  let bytes = 0;
  let head = range.anchor;
  for await (const { text, last } of periodPages(chain, range)) {
    rowsDigest.update(text);
    bytes += Buffer.byteLength(text);
    head = last;
  }
  // ZIP64 would need extra fields the verifier refuses, to stay small.
  if (bytes > MAX_ROWS_BYTES) throw new HttpError(413, "bundle_too_large", "The period's rows pass 4 GB; export it as several shorter periods.");
  const signer = auditSigner(getStore().masterKey);
  const count = head.seq - range.anchor.seq;
  const manifest: EvidenceManifest = {
    format: EVIDENCE_FORMAT,
    chain: chain.chain,
    workspaceId: chain.workspaceId,
    period: { from: period.from, to: period.to },
    rows: {
      file: EVIDENCE_ENTRIES.rows,
      count,
      firstSeq: count > 0 ? range.anchor.seq + 1 : null,
      lastSeq: count > 0 ? head.seq : null,
      sha256: rowsDigest.digest("hex"),
    },
    anchor: range.anchor,
    head,
    signing: { algorithm: "Ed25519", keyId: signer.keyId, publicKey: publicKeyPem(signer.publicKey) },
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8");
  const signature = sign(null, manifestBytes, signer.privateKey).toString("base64url");
  const signatureBytes = Buffer.from(`${JSON.stringify({ algorithm: "Ed25519", keyId: signer.keyId, signs: EVIDENCE_ENTRIES.manifest, signature }, null, 2)}\n`, "utf8");

  await chain.audit({
    actor: chain.actor,
    action: "audit.evidence_export",
    details: { from: period.from, to: period.to, anchorSeq: range.anchor.seq, headSeq: head.seq, rows: count, manifestSha256: sha256Hex(manifestBytes) },
  });

  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const rows = Readable.from(streamedRows(chain, range, manifest.rows.sha256));
  // yazl neither forwards an input stream's error nor fails its output on its own errors: both end the download here.
  rows.on("error", (error) => output.destroy(error));
  zip.on("error", (error: Error) => output.destroy(error));
  // A download abandoned half-way stops reading the chain too.
  output.once("close", () => rows.destroy());
  zip.addBuffer(manifestBytes, EVIDENCE_ENTRIES.manifest, ENTRY_OPTIONS);
  zip.addReadStream(rows, EVIDENCE_ENTRIES.rows, { ...ENTRY_OPTIONS, size: bytes });
  zip.addBuffer(signatureBytes, EVIDENCE_ENTRIES.signature, ENTRY_OPTIONS);
  let size = -1;
  // With no addFile() entry, yazl calls this during end(): the size is known before anything streams.
  // (@types/yazl leaves out the callback's argument.)
  (zip as unknown as { end(options: undefined, onSize: (total: number) => void): void }).end(undefined, (total) => (size = total));
  const label = chain.workspaceId ?? "control";
  return { manifest, fileName: `evidence-${label}-${period.from}-${period.to}.zip`, size, stream: output };
}

/** The bundle as a download; its name holds only an id and dates, so it needs no quoting beyond the quotes. */
export function evidenceResponse(bundle: EvidenceBundle): Response {
  return new Response(webStreamOf(bundle.stream), {
    headers: {
      "content-type": "application/zip",
      "content-length": String(bundle.size),
      "content-disposition": `attachment; filename="${bundle.fileName}"`,
      "cache-control": "no-store",
    },
  });
}

/**
 * Pull-based, so nothing is read ahead of the client and a cancel simply ends the stream.
 * (Node 20's Readable.toWeb keeps enqueueing after a cancel and throws "Controller is already closed".)
 */
function webStreamOf(stream: Readable): ReadableStream<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value));
    },
    cancel: () => void stream.destroy(),
  });
}

const sha256Hex = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

type PeriodRange = { anchor: ChainHead; lastSeq: number };

/** The seqs the period covers, and the anchor before them (a kept row, the retention anchor, or the genesis). */
async function periodRange(chain: ChainSource, period: EvidencePeriod): Promise<PeriodRange> {
  const { fromMs, endMs } = periodBounds(period);
  const table = chain.table;
  const headTable = headTableOf(table);
  const found = await chain.read(async (db) => {
    const [head] = await db.select().from(headTable).where(eq(headTable.id, HEAD_ID));
    const [first] = await db.select({ seq: min(table.seq) }).from(table).where(gte(table.at, fromMs));
    const [last] = await db.select({ seq: max(table.seq) }).from(table).where(lt(table.at, endMs));
    return { head, first: first?.seq ?? null, last: last?.seq ?? null };
  });
  const { head } = found;
  if (!head) throw new AuditChainError("the audit head is missing; run `enclave audit verify`");
  // No row on or after `from` yet: the period is empty and its anchor is the head.
  const firstSeq = found.first ?? head.seq + 1;
  const lastSeq = Math.max(found.last ?? 0, firstSeq - 1);
  if (lastSeq > head.seq) throw new AuditChainError(`row ${lastSeq} is past the head (${head.seq}); run \`enclave audit verify\``);
  const anchorSeq = firstSeq - 1;
  if (anchorSeq === head.anchorSeq) return { anchor: { seq: anchorSeq, hash: head.anchorHash }, lastSeq };
  const [anchorRow] = await chain.read((db) => db.select({ hash: table.hash }).from(table).where(eq(table.seq, anchorSeq)));
  if (!anchorRow) throw new AuditChainError(`row ${anchorSeq}, the one before the period, is missing; run \`enclave audit verify\``);
  return { anchor: { seq: anchorSeq, hash: anchorRow.hash }, lastSeq };
}

/** The period's rows as JSON Lines, a page at a time, each row checked against the one before it. */
async function* periodPages(chain: ChainSource, range: PeriodRange): AsyncGenerator<{ text: string; last: ChainHead }> {
  const table = chain.table;
  let previous = range.anchor;
  while (previous.seq < range.lastSeq) {
    const from = previous.seq + 1;
    const to = Math.min(range.lastSeq, previous.seq + PAGE_ROWS);
    const page = await chain.read((db) => db.select().from(table).where(and(gte(table.seq, from), lte(table.seq, to))).orderBy(asc(table.seq)));
    let text = "";
    for (const row of page) {
      const { hash, ...rest } = row;
      if (row.seq !== previous.seq + 1 || row.prevHash !== previous.hash || rowHash(rest) !== hash) {
        throw new AuditChainError(`the audit chain does not verify at row ${row.seq}, so no evidence is signed for it; run \`enclave audit verify\``);
      }
      text += `${canonicalJson(row)}\n`;
      previous = { seq: row.seq, hash };
    }
    if (previous.seq !== to) throw new AuditChainError(`row ${previous.seq + 1} is missing (swept or deleted during the export?); export again`);
    yield { text, last: previous };
  }
}

/** The second pass, as bytes, failing at the end unless they are the ones the manifest hashed. */
async function* streamedRows(chain: ChainSource, range: PeriodRange, sha256: string): AsyncGenerator<Buffer> {
  const digest = createHash("sha256");
  for await (const { text } of periodPages(chain, range)) {
    const chunk = Buffer.from(text, "utf8");
    digest.update(chunk);
    yield chunk;
  }
  if (digest.digest("hex") !== sha256) throw new AuditChainError("the period's rows changed during the export; export again");
}
