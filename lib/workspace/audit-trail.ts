import { workspaceAuditLog, workspaceChain } from "../audit/audit";
import { chainStatus, type ChainStatus } from "../audit/chain-status";
import { readAuditPage, withActorNames, type AuditPage, type AuditQuery } from "../audit/trail";
import type { WorkspaceAccess } from "../access/authorize";
import { withWorkspace } from "../db/store";

export { auditQuerySchema, type AuditPage, type AuditQuery, type AuditTrailRow } from "../audit/trail";
export type { ChainStatus } from "../audit/chain-status";

/** A page of the workspace's audit trail (lib/audit/trail.ts has the filters and cursors), for admins. */
export async function readWorkspaceAudit(access: WorkspaceAccess<"audit">, query: AuditQuery): Promise<AuditPage> {
  const page = await withWorkspace(access.workspaceId, (db) => readAuditPage(db.db, workspaceAuditLog, query));
  return { items: await withActorNames(page.rows), nextCursor: page.nextCursor, prevCursor: page.prevCursor };
}

/** Whether the workspace's chain verifies, and through which seq (cached: chain-status.ts). */
export function workspaceChainStatus(access: WorkspaceAccess<"audit">): Promise<ChainStatus> {
  return withWorkspace(access.workspaceId, (db) => chainStatus(db.db, workspaceAuditLog, workspaceChain(access.workspaceId)));
}
