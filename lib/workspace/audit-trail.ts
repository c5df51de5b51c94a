import { desc } from "drizzle-orm";
import { workspaceAuditLog } from "../audit/audit";
import type { WorkspaceAccess } from "../access/authorize";
import { withWorkspace } from "../db/store";

/** A workspace audit row as an admin reads it: who did what, when, from where; not the chain hashes. */
export type AuditTailRow = {
  seq: number;
  at: number;
  actorType: string;
  actorId: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  requestId: string | null;
  details: unknown;
};

/** The last `limit` rows of a workspace's audit trail, newest first. */
export async function workspaceAuditTail(access: WorkspaceAccess<"audit">, limit: number): Promise<AuditTailRow[]> {
  const rows = await withWorkspace(access.workspaceId, (db) =>
    db.db.select().from(workspaceAuditLog).orderBy(desc(workspaceAuditLog.seq)).limit(limit),
  );
  return rows.map((row) => ({
    seq: row.seq,
    at: row.at,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    target: row.target,
    ip: row.ip,
    requestId: row.requestId,
    details: JSON.parse(row.details) as unknown,
  }));
}
