import { count } from "drizzle-orm";
import { agentSessions, artifacts, events, knowledge } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { withWorkspace } from "../db/store";

export type WorkspaceStats = { knowledge: number; sessions: number; events: number; artifacts: number };

/**
 * How much a workspace holds, for its overview page: one read of four counts.
 */
export async function workspaceStats(access: WorkspaceAccess<"search">): Promise<WorkspaceStats> {
  return withWorkspace(access.workspaceId, async ({ db }) => {
    const [k, s, e, a] = await Promise.all([
      db.select({ n: count() }).from(knowledge),
      db.select({ n: count() }).from(agentSessions),
      db.select({ n: count() }).from(events),
      db.select({ n: count() }).from(artifacts),
    ]);
    return { knowledge: k[0]?.n ?? 0, sessions: s[0]?.n ?? 0, events: e[0]?.n ?? 0, artifacts: a[0]?.n ?? 0 };
  });
}
