import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { agentSessions } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { assertStorageFor, jsonBytes } from "../billing/limits";
import { withWorkspace } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { mergeReports, redactJson, redactText, type RedactionReport } from "./redaction";
import { auditWrite } from "./audit-records";
import { redactionPolicy } from "./redaction-settings";
import { storedText, urlName } from "../http/text";
import { jsonWithin, type JsonValue } from "./text";

/**
 * Agent sessions: named JSON state that agents read, change and write back. Every write names
 * the `rev` it read (0 for a session that does not exist yet); the check and the write happen
 * in one exclusive transaction, so of two writers holding the same rev exactly one wins and
 * the other gets 409 with the current rev.
 */
export const SESSION_STATE_MAX_BYTES = 256 * 1024;
export const sessionNameSchema = urlName(128);

export const putSessionSchema = z.object({
  rev: z.number().int().min(0),
  state: z.json(),
  channel: storedText(128).trim().min(1).nullish(),
});

export type AgentSession = { name: string; channel: string | null; state: JsonValue; rev: number; createdAt: number; updatedAt: number; updatedBy: string };

const toSession = (row: typeof agentSessions.$inferSelect): AgentSession => ({ ...row, state: JSON.parse(row.state) as JsonValue });

export async function getAgentSession(access: WorkspaceAccess<"search">, name: string): Promise<AgentSession> {
  const row = sessionNameSchema.safeParse(name).success
    ? await withWorkspace(access.workspaceId, async (db) => (await db.db.select().from(agentSessions).where(eq(agentSessions.name, name)))[0])
    : undefined;
  if (!row) throw notFound("No such session.");
  return toSession(row);
}

export async function listAgentSessions(access: WorkspaceAccess<"search">) {
  return withWorkspace(access.workspaceId, (db) =>
    db.db
      .select({ name: agentSessions.name, channel: agentSessions.channel, rev: agentSessions.rev, updatedAt: agentSessions.updatedAt, updatedBy: agentSessions.updatedBy })
      .from(agentSessions)
      .orderBy(asc(agentSessions.name))
      .limit(500),
  );
}

export async function putAgentSession(
  access: WorkspaceAccess<"sessionmutations">,
  name: string,
  input: z.infer<typeof putSessionSchema>,
): Promise<{ session: AgentSession; redaction: RedactionReport }> {
  if (!sessionNameSchema.safeParse(name).success) throw new HttpError(400, "invalid_request", "Session names use letters, digits, dot, dash and underscore.");
  jsonWithin(input.state, SESSION_STATE_MAX_BYTES, "session state");
  await assertStorageFor(access.workspaceId, jsonBytes(input));
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const [current] = await tx.select({ rev: agentSessions.rev, createdAt: agentSessions.createdAt, channel: agentSessions.channel }).from(agentSessions).where(eq(agentSessions.name, name));
      const currentRev = current?.rev ?? 0;
      if (input.rev !== currentRev) {
        throw new HttpError(409, "rev_conflict", `The session is at rev ${currentRev}; read it again and retry.`, {}, undefined, { currentRev });
      }
      const policy = await redactionPolicy(tx);
      const { value: state, report: stateReport } = redactJson(input.state, policy);
      const channel = input.channel ? redactText(input.channel, policy) : null;
      const report = channel ? mergeReports(stateReport, channel.report) : stateReport;
      const now = Date.now();
      const row = {
        name,
        channel: input.channel === undefined ? (current?.channel ?? null) : (channel?.text ?? null),
        state: JSON.stringify(state),
        rev: currentRev + 1,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        updatedBy: access.label,
      };
      if (current) await tx.update(agentSessions).set(row).where(eq(agentSessions.name, name));
      else await tx.insert(agentSessions).values(row);
      await auditWrite(tx, access, { action: "session.write", target: `session:${name}`, details: { rev: row.rev, channel: row.channel } }, { policy, report });
      return { session: toSession(row), redaction: report };
    }),
  );
}
