import { eq, inArray, or } from "drizzle-orm";
import { z } from "zod";
import { knowledge, links } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { assertStorageFor, jsonBytes } from "../billing/limits";
import { withWorkspace } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { auditWrite } from "./audit-records";
import { knowledgeIdSchema } from "./knowledge";
import { emptyReport } from "./redaction";
import { redactionPolicy } from "./redaction-settings";

/** The knowledge graph: labelled, directed links between entries; deleting an entry drops its links. */
export const createLinkSchema = z
  .object({
    from: knowledgeIdSchema,
    to: knowledgeIdSchema,
    relation: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/, "Relations are 1–64 letters, digits, dash, colon or underscore."),
  })
  .refine((link) => link.from !== link.to, { message: "An entry cannot link to itself.", path: ["to"] });

export type Link = { from: string; to: string; relation: string; createdAt: number; createdBy: string };
export type Neighbor = { direction: "out" | "in"; relation: string; id: string; title: string };

/** Idempotent: linking the same pair with the same relation twice keeps one link. */
export async function createLink(access: WorkspaceAccess<"index">, input: z.infer<typeof createLinkSchema>): Promise<Link> {
  await assertStorageFor(access.workspaceId, jsonBytes(input));
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const found = await tx.select({ id: knowledge.id }).from(knowledge).where(inArray(knowledge.id, [input.from, input.to]));
      if (found.length !== 2) throw new HttpError(404, "not_found", "Both ends of a link must be knowledge entries in this workspace.");
      const row = { fromId: input.from, toId: input.to, relation: input.relation, createdAt: Date.now(), createdBy: access.label };
      const inserted = await tx.insert(links).values(row).onConflictDoNothing().returning({ fromId: links.fromId });
      // Linking a pair again changes nothing, so it leaves no row either.
      if (inserted.length > 0) {
        await auditWrite(tx, access, { action: "link.create", target: input.from, details: { to: input.to, relation: input.relation } }, { policy: await redactionPolicy(tx), report: emptyReport });
      }
      return { from: row.fromId, to: row.toId, relation: row.relation, createdAt: row.createdAt, createdBy: row.createdBy };
    }),
  );
}

export async function neighbors(access: WorkspaceAccess<"graph">, id: string): Promise<Neighbor[]> {
  if (!knowledgeIdSchema.safeParse(id).success) throw notFound("No such knowledge entry.");
  return withWorkspace(access.workspaceId, async (db) => {
    const [entry] = await db.db.select({ id: knowledge.id }).from(knowledge).where(eq(knowledge.id, id));
    if (!entry) throw notFound("No such knowledge entry.");
    const edges = await db.db.select().from(links).where(or(eq(links.fromId, id), eq(links.toId, id))).limit(500);
    const otherIds = [...new Set(edges.map((edge) => (edge.fromId === id ? edge.toId : edge.fromId)))];
    const titles = new Map(
      otherIds.length ? (await db.db.select({ id: knowledge.id, title: knowledge.title }).from(knowledge).where(inArray(knowledge.id, otherIds))).map((row) => [row.id, row.title]) : [],
    );
    return edges.map((edge) => {
      const out = edge.fromId === id;
      const other = out ? edge.toId : edge.fromId;
      return { direction: out ? "out" : "in", relation: edge.relation, id: other, title: titles.get(other) ?? "" };
    });
  });
}
