import { and, desc, eq, lt, or } from "drizzle-orm";
import { z } from "zod";
import { knowledge, type KnowledgeRow } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { assertStorageFor, jsonBytes } from "../billing/limits";
import { randomId } from "../crypto/ids";
import { withWorkspace } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { emptyReport, mergeReports, redactText, type RedactionPolicy, type RedactionReport } from "./redaction";
import { auditWrite } from "./audit-records";
import { redactionPolicy } from "./redaction-settings";
import { storedText, text } from "../http/text";
import { decodeCursor, encodeCursor } from "./text";

export const KNOWLEDGE_BODY_MAX = 256 * 1024;

const tagSchema = storedText(64).trim().min(1).regex(/^[^,]+$/, "A tag cannot contain a comma.");
export const knowledgeIdSchema = z.string().regex(/^kn_[0-9a-f]{32}$/, "Not a knowledge id.");

export const knowledgeInputSchema = z.object({
  title: storedText(200).trim().min(1, "Give it a title."),
  body: storedText(KNOWLEDGE_BODY_MAX),
  tags: z.array(tagSchema).max(32).default([]),
  source: storedText(500).trim().min(1).nullish(),
});

/** A patch changes only what it names; `version`, when sent, must be the one the editor read. */
export const knowledgePatchSchema = knowledgeInputSchema
  // No default here: zod applies defaults inside .partial(), so `tags` would become [] on every patch that omits it.
  .extend({ tags: z.array(tagSchema).max(32) })
  .partial()
  .extend({ version: z.number().int().positive().optional() })
  .refine((patch) => Object.keys(patch).some((key) => key !== "version"), "Change at least one field.");

export const listQuerySchema = z.object({
  cursor: text(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export type KnowledgeEntry = Omit<KnowledgeRow, "tags"> & { tags: string[] };
export type KnowledgeInput = z.infer<typeof knowledgeInputSchema>;
export type KnowledgePatch = z.infer<typeof knowledgePatchSchema>;

const toEntry = (row: KnowledgeRow): KnowledgeEntry => ({ ...row, tags: JSON.parse(row.tags) as string[] });

/** Redacts every text field of an entry with one policy; the report covers them all. */
export function redactFields<T extends Partial<KnowledgeInput>>(input: T, policy: RedactionPolicy) {
  const reports: RedactionReport[] = [];
  const redact = (value: string) => {
    const result = redactText(value, policy);
    reports.push(result.report);
    return result.text;
  };
  const out = { ...input };
  if (out.title !== undefined) out.title = redact(out.title);
  if (out.body !== undefined) out.body = redact(out.body);
  if (out.tags !== undefined) out.tags = out.tags.map(redact);
  if (out.source) out.source = redact(out.source);
  return { values: out, report: mergeReports(...reports) };
}

export async function createKnowledge(access: WorkspaceAccess<"knowledge">, input: KnowledgeInput): Promise<{ entry: KnowledgeEntry; redaction: RedactionReport }> {
  await assertStorageFor(access.workspaceId, jsonBytes(input));
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const policy = await redactionPolicy(tx);
      const { values, report } = redactFields(input, policy);
      const now = Date.now();
      const row: KnowledgeRow = {
        id: randomId("kn"),
        title: values.title,
        body: values.body,
        tags: JSON.stringify(values.tags),
        source: values.source ?? null,
        author: access.label,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      await tx.insert(knowledge).values(row);
      await auditWrite(tx, access, { action: "knowledge.create", target: row.id, details: { title: row.title } }, { policy, report });
      return { entry: toEntry(row), redaction: report };
    }),
  );
}

export async function getKnowledge(access: WorkspaceAccess<"search">, id: string): Promise<KnowledgeEntry> {
  const row = knowledgeIdSchema.safeParse(id).success
    ? await withWorkspace(access.workspaceId, async (db) => (await db.db.select().from(knowledge).where(eq(knowledge.id, id)))[0])
    : undefined;
  if (!row) throw notFound("No such knowledge entry.");
  return toEntry(row);
}

const cursorSchema = z.tuple([z.number().int(), z.string().max(64)]);

/** Newest first; the cursor is the (updatedAt, id) of the last entry returned. */
export async function listKnowledge(access: WorkspaceAccess<"search">, query: z.infer<typeof listQuerySchema>) {
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor, cursorSchema);
  if (query.cursor !== undefined && !after) throw new HttpError(400, "invalid_cursor", "That cursor did not come from this API.");
  const rows = await withWorkspace(access.workspaceId, (db) =>
    db.db
      .select()
      .from(knowledge)
      .where(after ? or(lt(knowledge.updatedAt, after[0]), and(eq(knowledge.updatedAt, after[0]), lt(knowledge.id, after[1]))) : undefined)
      .orderBy(desc(knowledge.updatedAt), desc(knowledge.id))
      .limit(query.limit + 1),
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map(toEntry), nextCursor: rows.length > query.limit && last ? encodeCursor([last.updatedAt, last.id]) : null };
}

export async function updateKnowledge(access: WorkspaceAccess<"knowledge">, id: string, patch: KnowledgePatch) {
  if (!knowledgeIdSchema.safeParse(id).success) throw notFound("No such knowledge entry.");
  // The patch counts whole, though it replaces what it changes: a full workspace cannot take a rewrite either.
  await assertStorageFor(access.workspaceId, jsonBytes(patch));
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const [current] = await tx.select().from(knowledge).where(eq(knowledge.id, id));
      if (!current) throw notFound("No such knowledge entry.");
      if (patch.version !== undefined && patch.version !== current.version) {
        throw new HttpError(409, "version_conflict", `Someone changed this entry since you read it (now version ${current.version}).`, {}, undefined, {
          currentVersion: current.version,
        });
      }
      const policy = await redactionPolicy(tx);
      const { values, report } = redactFields(patch, policy);
      const next: KnowledgeRow = {
        ...current,
        ...(values.title !== undefined && { title: values.title }),
        ...(values.body !== undefined && { body: values.body }),
        ...(values.tags !== undefined && { tags: JSON.stringify(values.tags) }),
        ...(values.source !== undefined && { source: values.source ?? null }),
        updatedAt: Date.now(),
        version: current.version + 1,
      };
      await tx.update(knowledge).set(next).where(eq(knowledge.id, id));
      const fields = Object.keys(patch).filter((key) => key !== "version");
      await auditWrite(tx, access, { action: "knowledge.update", target: id, details: { title: next.title, fields, version: next.version } }, { policy, report });
      return { entry: toEntry(next), redaction: report };
    }),
  );
}

export async function deleteKnowledge(access: WorkspaceAccess<"knowledge">, id: string): Promise<void> {
  if (!knowledgeIdSchema.safeParse(id).success) throw notFound("No such knowledge entry.");
  await withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const [current] = await tx.select({ title: knowledge.title }).from(knowledge).where(eq(knowledge.id, id));
      if (!current) throw notFound("No such knowledge entry.");
      await tx.delete(knowledge).where(eq(knowledge.id, id));
      await auditWrite(tx, access, { action: "knowledge.delete", target: id, details: { title: current.title } }, { policy: await redactionPolicy(tx), report: emptyReport });
    }),
  );
}
