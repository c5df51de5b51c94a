import type { Database, Drizzle } from "../db/database";
import { getControlDb, withWorkspace } from "../db/store";
import { StorageDamagedError, storageFault, storageHealth } from "../db/storage-health";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "../audit/audit";
import { readAuditHead, type AuditTable } from "../audit/chain";
import type { z } from "zod";
import { checkpointRefSchema } from "../audit/checkpoint";
import { listAllWorkspaces } from "../workspace/workspaces";
import { CliUsageError, operatorAccess, options, parse } from "./args";

export const AUDIT_VERIFY_USAGE = `  enclave audit verify [--workspace ID | --all] [--checkpoint SEQ:HASH]
                                                 (exit 1 if a hash chain is broken, ends short of its
                                                  head, no longer holds that earlier checkpoint, or its
                                                  file is damaged; --all checks control.db and every
                                                  workspace, going on past a damaged one)`;

type Verdict = { ok: boolean; line: string };
type CheckpointRef = z.infer<typeof checkpointRefSchema>;

// The head is read first: if the server appends meanwhile, the head printed is still in the chain verified.
async function checkChain(db: Drizzle<Record<string, unknown>>, table: AuditTable, which: string, checkpoint: CheckpointRef | undefined): Promise<Verdict> {
  const head = await readAuditHead(db, table);
  const verdict = await verifyAuditChain(db, table, { checkpoint });
  if (!verdict.ok) return { ok: false, line: `audit chain of ${which}: BROKEN at row ${verdict.firstBadSeq} (${verdict.reason})` };
  const proof = checkpoint ? `; holds checkpoint ${checkpoint.seq}:${checkpoint.hash}` : "";
  const swept = verdict.anchor ? ` from retention anchor ${verdict.anchor.seq}:${verdict.anchor.hash}` : "";
  return { ok: true, line: `audit chain of ${which}: intact, ${verdict.rows} rows${swept}, head ${head ? `${head.seq}:${head.hash}` : "none"}${proof}` };
}

/**
 * Every page of the file against its HMAC (SQLCipher reads them all): damage outside the audit
 * table is damage too, and the restore is the same. Null when every page checks out.
 */
async function damagedPages(db: { rows: Database<Record<string, unknown>>["rows"] }): Promise<string | null> {
  const failures = (await db.rows("PRAGMA cipher_integrity_check")).map((row) => String(Object.values(row)[0]));
  if (failures.length === 0) return null;
  const pages = failures.map((line) => /page (\d+)/.exec(line)?.[1]).filter((page) => page !== undefined);
  const shown = pages.slice(0, 5).join(", ") + (pages.length > 5 ? ", …" : "");
  return `${failures.length} page${failures.length === 1 ? "" : "s"} fail their HMAC check${shown ? ` (page ${shown})` : ""}`;
}

async function checkFile(db: Database<Record<string, unknown>>, table: AuditTable, which: string, checkpoint: CheckpointRef | undefined): Promise<Verdict> {
  const damage = await damagedPages(db);
  if (damage) return { ok: false, line: `audit chain of ${which}: DAMAGED (${damage})` };
  return checkChain(db.db, table, which, checkpoint);
}

/** A damaged file is a verdict, not a crash: one clear line (the reason is the driver's, for the operator), and the next file. */
async function guarded(which: string, check: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await check();
  } catch (error) {
    const fault = storageFault(error);
    if (!(fault instanceof StorageDamagedError)) throw fault;
    return { ok: false, line: `audit chain of ${which}: DAMAGED (${damageReason(fault)})` };
  }
}

/** What the store recorded when it met the damage (the driver's words), or a plain sentence. */
function damageReason(error: StorageDamagedError): string {
  return storageHealth().damaged.find((entry) => entry.workspaceId === error.workspaceId)?.reason ?? "the file cannot be read";
}

export async function runAuditVerify(args: string[]): Promise<void> {
  const { values, flags } = options(args, ["workspace", "checkpoint"], 0, ["all"]);
  if (flags.all && values.workspace !== undefined) throw new CliUsageError("--all and --workspace: give one or the other");
  const checkpoint = values.checkpoint === undefined ? undefined : parse(checkpointRefSchema, values.checkpoint, "--checkpoint");
  if (flags.all && checkpoint) throw new CliUsageError("--checkpoint names one chain's head: use it with --workspace, or alone for control.db");
  const control = await getControlDb();
  const verdicts: Verdict[] = [];
  const report = (verdict: Verdict) => {
    console.log(verdict.line);
    verdicts.push(verdict);
  };
  const workspace = async (id: string, which: string) =>
    report(await guarded(which, () => withWorkspace(id, (db) => checkFile(db, workspaceAuditLog, which, checkpoint))));
  if (values.workspace !== undefined) {
    const { workspaceId } = await operatorAccess(values.workspace, "audit");
    await workspace(workspaceId, `workspace ${workspaceId}`);
  } else {
    report(await guarded("control.db", () => checkFile(control, controlAuditLog, "control.db", checkpoint)));
    if (flags.all) {
      for (const { id } of await listAllWorkspaces()) await workspace(id, `workspace ${id}`);
    }
  }
  const failed = verdicts.filter((verdict) => !verdict.ok).length;
  if (flags.all) console.log(`${verdicts.length} chains checked, ${failed} broken or damaged`);
  if (failed > 0) process.exitCode = 1;
}
