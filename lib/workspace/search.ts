import { z } from "zod";
import type { WorkspaceAccess } from "../access/authorize";
import { withWorkspace } from "../db/store";
import { text } from "../http/text";

/**
 * Full-text search over knowledge (FTS5, bm25-ranked, title weighted above tags above body).
 *
 * Whatever a person or agent types is treated as plain terms: the query is cut into runs of
 * letters and digits and each run is sent as a quoted FTS5 string, so `"`, `*`, `:`, `NEAR(`,
 * `AND`, unbalanced quotes and column filters are never FTS syntax and cannot raise an error.
 * Any term may match (OR); bm25 ranks entries that match more, and rarer, terms first.
 */
export const searchQuerySchema = z.object({
  q: text(500).default(""),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export type SnippetPart = { text: string; match: boolean };
export type SearchHit = { id: string; title: string; tags: string[]; updatedAt: number; score: number; snippet: SnippetPart[] };

const MAX_TERMS = 16;
// \u0002/\u0003 cannot occur in stored text (see text.ts), so they safely mark hits in snippets.
const HIT_START = "\u0002";
const HIT_END = "\u0003";

export function toFtsQuery(input: string): string | null {
  const terms = input.normalize("NFKC").match(/[\p{L}\p{N}]+/gu)?.slice(0, MAX_TERMS) ?? [];
  return terms.length ? terms.map((term) => `"${term}"`).join(" OR ") : null;
}

/** Splits an FTS5 snippet into plain and matched parts, so the portal can render them as text. */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  for (const [index, piece] of snippet.split(new RegExp(`[${HIT_START}${HIT_END}]`)).entries()) {
    if (piece) parts.push({ text: piece, match: index % 2 === 1 });
  }
  return parts;
}

// Rank inside the FTS index first (bm25 reads only the index), then fetch rows and build
// snippets for the top `limit` alone: joining every match to `knowledge` before the LIMIT read
// (and decrypted) a page per match, which for a common term is most of the file.
const SEARCH_SQL = `
  WITH top AS (
    SELECT rowid, bm25(knowledge_fts, 10.0, 1.0, 5.0) AS score
    FROM knowledge_fts WHERE knowledge_fts MATCH ?1
    ORDER BY score LIMIT ?2
  )
  SELECT k.id AS id, k.title AS title, k.tags AS tags, k.updated_at AS updatedAt, top.score AS score,
         snippet(knowledge_fts, 1, '${HIT_START}', '${HIT_END}', '…', 16) AS snippet
  FROM top
  JOIN knowledge_fts ON knowledge_fts.rowid = top.rowid
  JOIN knowledge k ON k.rowid = top.rowid
  WHERE knowledge_fts MATCH ?1
  ORDER BY top.score`;

export async function searchKnowledge(access: WorkspaceAccess<"search">, query: z.infer<typeof searchQuerySchema>): Promise<SearchHit[]> {
  const match = toFtsQuery(query.q);
  if (!match) return [];
  const rows = await withWorkspace(access.workspaceId, (db) => db.rows(SEARCH_SQL, [match, query.limit]));
  return rows.map((row) => ({
    id: String(row.id),
    title: String(row.title),
    tags: JSON.parse(String(row.tags)) as string[],
    updatedAt: Number(row.updatedAt),
    score: Number(row.score),
    snippet: snippetParts(String(row.snippet)),
  }));
}
