import { z } from "zod";
import { HttpError } from "../http/errors";
import { text } from "../http/text";
import { parseInput } from "../http/body";
import {
  createKnowledge,
  deleteKnowledge,
  getKnowledge,
  knowledgeIdSchema,
  knowledgeInputSchema,
  knowledgePatchSchema,
  updateKnowledge,
  type KnowledgeEntry,
} from "../workspace/knowledge";
import { createLink, createLinkSchema, neighbors } from "../workspace/links";
import { searchKnowledge, searchQuerySchema, type SnippetPart } from "../workspace/search";
import * as api from "../api/schemas";
import { defineTool, inlined, readOnly, writes } from "./tool-kit";
import { knowledgeUri } from "./tool-scopes";

/** Tools over knowledge and its graph: search, read, remember, forget, link, neighbours. */

export const redactionReportSchema = inlined(api.redactionReportSchema);
const entrySchema = inlined(api.knowledgeEntrySchema, { uri: z.string() });

const withUri = (entry: KnowledgeEntry) => ({ ...entry, uri: knowledgeUri(entry.id) });

// Matches marked as **bold**: a snippet is read by a model or shown as Markdown, not rendered as HTML.
const snippetText = (parts: SnippetPart[]) => parts.map((part) => (part.match ? `**${part.text}**` : part.text)).join("");

const search = defineTool({
  name: "search",
  title: "Search knowledge",
  description: "Full-text search over the workspace's knowledge entries, best matches first. Any word may match.",
  annotations: readOnly,
  inputSchema: z.object({
    query: text(500).describe("Words to look for"),
    limit: z.number().int().min(1).max(50).default(10),
  }),
  outputSchema: z.object({
    hits: z.array(
      z.object({
        id: z.string(),
        uri: z.string(),
        title: z.string(),
        tags: z.array(z.string()),
        updatedAt: z.number(),
        score: z.number(),
        snippet: z.string().describe("Part of the body around the matches, which are marked **like this**"),
      }),
    ),
  }),
  run: async (access, { query, limit }) => {
    const hits = await searchKnowledge(access, parseInput(searchQuerySchema, { q: query, limit }));
    return { hits: hits.map((hit) => ({ ...hit, uri: knowledgeUri(hit.id), snippet: snippetText(hit.snippet) })) };
  },
});

const getKnowledgeTool = defineTool({
  name: "get_knowledge",
  title: "Read a knowledge entry",
  description: "One knowledge entry by id (kn_…), with its full body and version.",
  annotations: readOnly,
  inputSchema: z.object({ id: knowledgeIdSchema }),
  outputSchema: z.object({ entry: entrySchema }),
  run: async (access, { id }) => ({ entry: withUri(await getKnowledge(access, id)) }),
});

const remember = defineTool({
  name: "remember",
  title: "Remember (create or update knowledge)",
  description:
    "Without `id`, creates an entry (title and body required). With `id`, changes only the fields given; pass the `version` you read to refuse the write if someone changed the entry since. Secrets in the text are redacted before storing.",
  annotations: writes,
  inputSchema: z.object({
    id: knowledgeIdSchema.optional().describe("The entry to update; leave out to create one"),
    ...knowledgePatchSchema.shape,
  }),
  outputSchema: z.object({ entry: entrySchema, created: z.boolean(), redaction: redactionReportSchema }),
  run: async (access, { id, ...fields }) => {
    if (id !== undefined) {
      const { entry, redaction } = await updateKnowledge(access, id, parseInput(knowledgePatchSchema, fields));
      return { entry: withUri(entry), created: false, redaction };
    }
    if (fields.version !== undefined) throw new HttpError(400, "invalid_request", "`version` only applies when updating an entry by `id`.");
    const { entry, redaction } = await createKnowledge(access, parseInput(knowledgeInputSchema, fields));
    return { entry: withUri(entry), created: true, redaction };
  },
});

const forget = defineTool({
  name: "forget",
  title: "Forget (delete knowledge)",
  description: "Deletes a knowledge entry and its links. The deletion is recorded in the workspace audit trail.",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  inputSchema: z.object({ id: knowledgeIdSchema }),
  outputSchema: z.object({ deleted: z.string() }),
  run: async (access, { id }) => {
    await deleteKnowledge(access, id);
    return { deleted: id };
  },
});

const link = defineTool({
  name: "link",
  title: "Link two entries",
  description: "Adds a labelled, directed link `from` → `to` in the knowledge graph (e.g. relation `depends-on`). Linking the same pair twice keeps one link.",
  annotations: { ...writes, idempotentHint: true },
  inputSchema: createLinkSchema,
  outputSchema: z.object({ link: api.linkSchema }),
  run: async (access, input) => ({ link: await createLink(access, input) }),
});

const neighborsTool = defineTool({
  name: "neighbors",
  title: "Linked entries",
  description: "Entries linked from (`out`) or to (`in`) one knowledge entry, with the link's relation.",
  annotations: readOnly,
  inputSchema: z.object({ id: knowledgeIdSchema }),
  outputSchema: api.neighborsSchema,
  run: async (access, { id }) => ({ items: await neighbors(access, id) }),
});

export const knowledgeTools = [search, getKnowledgeTool, remember, forget, link, neighborsTool];
