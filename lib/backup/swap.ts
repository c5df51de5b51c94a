import fs from "node:fs";
import path from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { workspaces } from "@/db/control/schema";
import { auditControlTx, auditWorkspaceTx, verifyAuditChain, workspaceAuditLog, type Actor } from "../audit/audit";
import { deriveWorkspaceKey } from "../crypto/keys";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { bumpAccessEpoch } from "../db/access-epoch";
import { Connection, WrongKeyError } from "../db/connection";
import { Database } from "../db/database";
import { getControlDb, getStore, swapWorkspaceFolder, withWorkspace, workspaceStagingFile } from "../db/store";
import { workspaceSchema } from "@/db/workspace/schema";
import { logger } from "../log/logger";

/**
 * Restoring one workspace into a live instance, from the CLI while the server serves:
 *
 *   1. the staged file is verified — it opens with THIS workspace's key (derived with its id as
 *      salt, so another workspace's file does not), integrity_check, its audit chain — all
 *      before anything changes;
 *   2. `workspaces.offline_since` is set (audited, access epoch bumped): every request for it
 *      answers 503 (authorize.ts) and live event streams end;
 *   3. a drain (DRAIN_MS) lets requests that passed their access check before step 2 finish;
 *   4. two renames put the staged folder in place (store.swapWorkspaceFolder); the server sees
 *      the new inode on its next use of a cached handle and reopens;
 *   5. a row in the workspace's own chain and `workspace.restore_from_backup` in the control
 *      chain record it, and offline_since is cleared.
 *
 * A crash after step 2 leaves the workspace offline (fail closed) until the command is run
 * again; any folder left half-way is settled at the next start (store.settlePendingWorkspaces).
 */
export class RestoreRefusedError extends Error {
  override name = "RestoreRefusedError";
}

/**
 * Requests check access when they start and Enclave's handlers are short (a search or a write
 * is milliseconds; exports read their own snapshot connection, never the shared handle): two
 * seconds lets every request that began before the workspace went offline finish on the old
 * file. One still writing after that is the price of not stopping the server; its write is
 * refused by SQLite's lock or lands in the replaced file.
 */
export const DRAIN_MS = 2000;

export type SwapResult = { workspaceId: string; auditRows: number; offlineMs: number };

export async function swapInWorkspace(
  workspaceId: string,
  stagedFile: string,
  options: { backupId: string; actor: Actor; drainMs?: number },
): Promise<SwapResult> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw new RestoreRefusedError(`${workspaceId} is not a workspace id`);
  await requireRestorableWorkspace(workspaceId);
  const staging = workspaceStagingFile(workspaceId, { fresh: false });
  let auditRows: number;
  try {
    if (path.resolve(stagedFile) !== staging) fs.copyFileSync(stagedFile, workspaceStagingFile(workspaceId, { fresh: true }));
    auditRows = await verifyStagedFile(workspaceId, staging);
  } catch (error) {
    // Refused before anything changed: the staged copy goes too.
    fs.rmSync(path.dirname(staging), { recursive: true, force: true });
    throw error;
  }

  const control = await getControlDb();
  const offlineAt = Date.now();
  await control.transaction(async (tx) => {
    // A re-run after a crash finds it offline already: it stays so, and the swap goes on.
    await tx.update(workspaces).set({ offlineSince: offlineAt }).where(and(eq(workspaces.id, workspaceId), isNull(workspaces.offlineSince)));
    await bumpAccessEpoch(tx);
    await auditControlTx(tx, { actor: options.actor, action: "workspace.taken_offline", target: workspaceId, details: { backupId: options.backupId } });
  });
  await new Promise((resolve) => setTimeout(resolve, options.drainMs ?? DRAIN_MS));

  await swapWorkspaceFolder(workspaceId);
  logger.info({ workspaceId, backupId: options.backupId }, "workspace file swapped for its restored copy");
  await withWorkspace(workspaceId, (db) =>
    db.transaction((tx) => auditWorkspaceTx(tx, workspaceId, { actor: options.actor, action: "workspace.restore_from_backup", target: workspaceId, details: { backupId: options.backupId } })),
  );
  await control.transaction(async (tx) => {
    await tx.update(workspaces).set({ offlineSince: null }).where(eq(workspaces.id, workspaceId));
    await auditControlTx(tx, { actor: options.actor, action: "workspace.restore_from_backup", target: workspaceId, details: { backupId: options.backupId, auditRows } });
  });
  return { workspaceId, auditRows, offlineMs: Date.now() - offlineAt };
}

/** Only a workspace that is live here: not one that never existed, was purged, or is deleted (restore it first). */
async function requireRestorableWorkspace(workspaceId: string): Promise<void> {
  const control = await getControlDb();
  const [row] = await control.db.select({ deletedAt: workspaces.deletedAt }).from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!row) throw new RestoreRefusedError(`no workspace ${workspaceId} here (never created, or purged): a full restore brings back a purged one`);
  if (row.deletedAt !== null) throw new RestoreRefusedError(`workspace ${workspaceId} is deleted: restore it first (its owner: Workspaces › Deleted › Restore), then its file`);
}

/** Everything that can be checked without touching the live workspace; throws RestoreRefusedError naming what failed. Returns the audit rows. */
async function verifyStagedFile(workspaceId: string, file: string): Promise<number> {
  let connection: Connection;
  try {
    connection = await Connection.open(file, deriveWorkspaceKey(getStore().masterKey, workspaceId), { create: false });
  } catch (error) {
    if (error instanceof WrongKeyError) throw new RestoreRefusedError(`the restored file does not open with workspace ${workspaceId}'s key: it is another workspace's file, or from another master key`);
    throw error;
  }
  const db = new Database(connection, workspaceSchema);
  try {
    const integrity = await connection.all("PRAGMA integrity_check");
    const verdict = integrity.map((row) => Object.values(row)[0]).join("; ");
    if (verdict !== "ok") throw new RestoreRefusedError(`the restored file fails integrity_check: ${verdict}`);
    const chain = await verifyAuditChain(db.db, workspaceAuditLog);
    if (!chain.ok) throw new RestoreRefusedError(`the restored file's audit chain does not verify at row ${chain.firstBadSeq}: ${chain.reason}`);
    return chain.rows;
  } finally {
    await db.close();
  }
}
