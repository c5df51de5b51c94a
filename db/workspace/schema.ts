import { sqliteTable } from "drizzle-orm/sqlite-core";
import { auditColumns } from "../audit-columns";

// Knowledge, sessions, events, artifacts and links arrive with the workspace-data issue.
export const auditLog = sqliteTable("audit_log", auditColumns);

export const workspaceSchema = { auditLog };
export type WorkspaceSchema = typeof workspaceSchema;
