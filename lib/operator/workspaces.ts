import path from "node:path";
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import { z } from "zod";
import { memberships, users, workspaces } from "@/db/control/schema";
import { getConfig } from "../config";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { bytesUnder } from "./disk";

/**
 * GET /api/operator/workspaces: every workspace as an operator needs to see it — who owns it,
 * how big it is, whether it is deleted or offline — never what is in it. Ordered by id, in
 * pages: `cursor` is the last id of the page before.
 */
export const operatorWorkspacesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(64).regex(WORKSPACE_ID_PATTERN, "not a workspace id").optional(),
});

const operatorWorkspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.number(),
  owners: z.array(z.object({ id: z.string(), email: z.string() })),
  sizeBytes: z.number().describe("the workspace's file with its -wal and -shm"),
  deleted: z.boolean(),
  deletedAt: z.number().nullable(),
  purgeAt: z.number().nullable(),
  offline: z.boolean().describe("a restore is swapping its file"),
});

export const operatorWorkspacePageSchema = z.object({
  items: z.array(operatorWorkspaceSchema),
  nextCursor: z.string().nullable(),
});
export type OperatorWorkspacePage = z.infer<typeof operatorWorkspacePageSchema>;

export async function listWorkspacesForOperator(query: z.infer<typeof operatorWorkspacesQuerySchema>): Promise<OperatorWorkspacePage> {
  const { db } = await getControlDb();
  const rows = await db
    .select()
    .from(workspaces)
    .where(query.cursor === undefined ? undefined : gt(workspaces.id, query.cursor))
    .orderBy(asc(workspaces.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const ids = page.map((row) => row.id);
  const owners = new Map<string, { id: string; email: string }[]>();
  if (ids.length > 0) {
    const ownerRows = await db
      .select({ workspaceId: memberships.workspaceId, id: users.id, email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(inArray(memberships.workspaceId, ids), eq(memberships.role, "owner")))
      .orderBy(asc(users.email));
    for (const row of ownerRows) owners.set(row.workspaceId, [...(owners.get(row.workspaceId) ?? []), { id: row.id, email: row.email }]);
  }
  const root = path.join(getConfig().dataDir, "workspaces");
  return {
    items: page.map((row) => ({
      id: row.id,
      name: row.name,
      createdAt: row.createdAt,
      owners: owners.get(row.id) ?? [],
      // The id matched WORKSPACE_ID_PATTERN when the row was made: it names a folder, never a path out of it.
      sizeBytes: bytesUnder(path.join(root, row.id)),
      deleted: row.deletedAt !== null,
      deletedAt: row.deletedAt,
      purgeAt: row.purgeAt,
      offline: row.offlineSince !== null,
    })),
    nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
  };
}
