import { z } from "zod";
import type { agentSessions, artifacts, events, KnowledgeRow, links } from "@/db/workspace/schema";
import { canonicalJson } from "../audit/chain";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { parseContentType } from "../workspace/artifacts";
import { putSessionSchema, sessionNameSchema } from "../workspace/agent-sessions";
import { publishEventSchema } from "../workspace/events";
import { knowledgeIdSchema, knowledgeInputSchema } from "../workspace/knowledge";
import { createLinkSchema } from "../workspace/links";
import { redactionSettingsSchema } from "../workspace/redaction";
import { artifactNameSchema } from "../workspace/artifacts";
import { workspaceNameSchema } from "../workspace/workspaces";

/**
 * The export format, both ways: what each file of a workspace's folder holds, as the exporter
 * writes it (the `*Line` functions) and as the importer accepts it (the schemas, built from the
 * API's own so an import is held to what a write through the API would be). One line of a
 * JSON Lines file is the RFC 8785 (canonical) JSON of one row, rows in primary-key order, so
 * the same data always gives the same bytes and the same SHA-256 in the manifest.
 */
export const EXPORT_FORMAT = "enclave-export/1";

export const MANIFEST_FILE = "manifest.json";
export const README_FILE = "README.txt";

/** The files of one workspace's folder, `workspaces/<id>/` in every archive. */
export const WORKSPACE_FILES = {
  meta: "workspace.json",
  settings: "settings.json",
  knowledge: "knowledge.jsonl",
  sessions: "agent-sessions.jsonl",
  events: "events.jsonl",
  links: "links.jsonl",
  artifacts: "artifacts.jsonl",
  audit: "audit.jsonl",
} as const;
export const ARTIFACT_DIR = "artifacts/";
export const workspaceFolder = (workspaceId: string) => `workspaces/${workspaceId}/`;

/** One line of JSON Lines: canonical, so equal rows are equal bytes. */
export const jsonLine = (value: unknown): string => `${canonicalJson(value)}\n`;

/**
 * The file an artifact's bytes go in. Names are already URL-safe, but an archive is unpacked
 * on file systems that fold case (Report.pdf and report.pdf would be one file) or reserve
 * names (CON, NUL): the ordinal in front keeps every file distinct and ordinary, and
 * artifacts.jsonl maps each file back to its name. Anything outside the safe set is replaced,
 * so no name, however it got into the database, can reach a path.
 */
export function artifactFile(ordinal: number, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 200);
  return `${ARTIFACT_DIR}${String(ordinal).padStart(6, "0")}-${safe}`;
}

// ---- what the exporter writes ----

export const knowledgeLine = (row: KnowledgeRow) => ({
  id: row.id,
  title: row.title,
  body: row.body,
  tags: JSON.parse(row.tags) as unknown,
  source: row.source,
  author: row.author,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  version: row.version,
});

export const sessionLine = (row: typeof agentSessions.$inferSelect) => ({
  name: row.name,
  channel: row.channel,
  state: JSON.parse(row.state) as unknown,
  rev: row.rev,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  updatedBy: row.updatedBy,
});

export const eventLine = (row: typeof events.$inferSelect) => ({
  seq: row.seq,
  type: row.type,
  payload: JSON.parse(row.payload) as unknown,
  actor: row.actor,
  at: row.at,
});

export const linkLine = (row: typeof links.$inferSelect) => ({
  from: row.fromId,
  to: row.toId,
  relation: row.relation,
  createdAt: row.createdAt,
  createdBy: row.createdBy,
});

type ArtifactMetaRow = Omit<typeof artifacts.$inferSelect, "bytes">;
/** `size` and `sha256` are of the bytes as written to `file`, counted while they streamed. */
export const artifactLine = (row: ArtifactMetaRow, file: string, written: { size: number; sha256: string }) => ({
  name: row.name,
  file,
  contentType: row.contentType,
  size: written.size,
  sha256: written.sha256,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  updatedBy: row.updatedBy,
});

// ---- what the importer accepts ----

/** Who wrote a row, as stored (`user:<id>`, `token:<id>`, `oauth:<id>`, `operator:cli`): a label, never a secret. */
const labelSchema = z.string().max(100).regex(/^(user|token|oauth|operator):[A-Za-z0-9_]{1,80}$/, "Not a principal label.");
const timeSchema = z.number().int().min(0).max(8_640_000_000_000_000);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "Not a SHA-256 in hex.");
const auditHeadSchema = z.strictObject({ seq: z.number().int().min(0), hash: sha256Schema });

export const workspaceMetaSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  id: z.string().regex(WORKSPACE_ID_PATTERN, "Not a workspace id."),
  name: workspaceNameSchema,
  createdAt: timeSchema,
  deletedAt: timeSchema.nullable(),
  exportedAt: timeSchema,
  audit: auditHeadSchema,
});
export type WorkspaceMeta = z.infer<typeof workspaceMetaSchema>;

export const workspaceSettingsSchema = z.strictObject({ redaction: redactionSettingsSchema });

export const knowledgeLineSchema = knowledgeInputSchema
  .extend({ id: knowledgeIdSchema, author: labelSchema, createdAt: timeSchema, updatedAt: timeSchema, version: z.number().int().positive() })
  .strict();

export const sessionLineSchema = z.strictObject({
  name: sessionNameSchema,
  channel: putSessionSchema.shape.channel.transform((channel) => channel ?? null),
  state: putSessionSchema.shape.state,
  rev: z.number().int().positive(),
  createdAt: timeSchema,
  updatedAt: timeSchema,
  updatedBy: labelSchema,
});

export const eventLineSchema = z.strictObject({
  seq: z.number().int().positive(),
  type: publishEventSchema.shape.type,
  payload: z.json(),
  actor: labelSchema,
  at: timeSchema,
});

export const linkLineSchema = createLinkSchema.safeExtend({ createdAt: timeSchema, createdBy: labelSchema }).strict();

const contentTypeSchema = z.string().refine((value) => {
  try {
    return parseContentType(value) === value;
  } catch {
    return false;
  }
}, "Not a valid content type.");

export const artifactLineSchema = z.strictObject({
  name: artifactNameSchema,
  file: z.string().regex(/^artifacts\/[A-Za-z0-9._-]{1,220}$/, "Not an artifact file of this format."),
  contentType: contentTypeSchema,
  size: z.number().int().min(0),
  sha256: sha256Schema,
  createdAt: timeSchema,
  updatedAt: timeSchema,
  updatedBy: labelSchema,
});

const manifestPathSchema = z.string().min(1).max(400);
export const manifestSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  kind: z.enum(["account", "workspace"]),
  createdAt: z.iso.datetime(),
  files: z.array(z.strictObject({ path: manifestPathSchema, size: z.number().int().min(0), sha256: sha256Schema })),
});
export type Manifest = z.infer<typeof manifestSchema>;
