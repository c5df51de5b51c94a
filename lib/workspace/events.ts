import { asc, desc, gt } from "drizzle-orm";
import { z } from "zod";
import { events } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { assertStorageFor, jsonBytes } from "../billing/limits";
import { withWorkspace } from "../db/store";
import { publish, type BusEvent } from "./event-bus";
import { redactJson, type RedactionReport } from "./redaction";
import { auditWrite } from "./audit-records";
import { redactionPolicy } from "./redaction-settings";
import { jsonWithin, type JsonValue } from "./text";

/** Events: append-only, numbered by `seq`, which is also the cursor and the SSE event id. */
export const EVENT_PAYLOAD_MAX_BYTES = 64 * 1024;

export const publishEventSchema = z.object({
  type: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, "Event types are 1–64 letters, digits, dot, dash, colon or underscore."),
  payload: z.json().default({}),
});

export const listEventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const toEvent = (row: typeof events.$inferSelect): BusEvent => ({ ...row, payload: JSON.parse(row.payload) as JsonValue });

export async function publishEvent(
  access: WorkspaceAccess<"events:publish">,
  input: z.infer<typeof publishEventSchema>,
): Promise<{ event: BusEvent; redaction: RedactionReport }> {
  jsonWithin(input.payload, EVENT_PAYLOAD_MAX_BYTES, "event payload");
  await assertStorageFor(access.workspaceId, jsonBytes(input));
  const result = await withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const policy = await redactionPolicy(tx);
      const { value: payload, report } = redactJson(input.payload, policy);
      const row = { type: input.type, payload: JSON.stringify(payload), actor: access.label, at: Date.now() };
      const [inserted] = await tx.insert(events).values(row).returning({ seq: events.seq });
      if (!inserted) throw new Error("event insert returned no row");
      await auditWrite(tx, access, { action: "event.publish", target: `event:${inserted.seq}`, details: { type: row.type } }, { policy, report });
      return { event: { ...row, seq: inserted.seq, payload }, redaction: report };
    }),
  );
  // After COMMIT: a subscriber never sees an event that could still roll back.
  publish(access.workspaceId, result.event);
  return result;
}

/** Events after `after`, oldest first; `nextCursor` is the last seq returned (pass it back as `after`). */
export async function listEvents(access: WorkspaceAccess<"events:read">, query: z.infer<typeof listEventsQuerySchema>) {
  const rows = await withWorkspace(access.workspaceId, (db) =>
    db.db.select().from(events).where(gt(events.seq, query.after)).orderBy(asc(events.seq)).limit(query.limit),
  );
  const items = rows.map(toEvent);
  return { items, nextCursor: items.at(-1)?.seq ?? query.after };
}

export async function latestSeq(access: WorkspaceAccess<"events:read">): Promise<number> {
  const [row] = await withWorkspace(access.workspaceId, (db) => db.db.select({ seq: events.seq }).from(events).orderBy(desc(events.seq)).limit(1));
  return row?.seq ?? 0;
}
