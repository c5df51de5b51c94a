import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { auditHeadTable, auditLogTable } from "../audit-columns";

// Times are integer milliseconds since the epoch. `author`/`updatedBy`/`actor` hold a principal
// label (`user:<id>`, `token:<id>`), never a secret. The FTS5 index over knowledge lives in a
// hand-written migration (drizzle-kit cannot describe virtual tables or their triggers).

export const knowledge = sqliteTable(
  "knowledge",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    /** JSON array of strings. */
    tags: text("tags").notNull().default("[]"),
    source: text("source"),
    author: text("author").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    version: integer("version").notNull().default(1),
  },
  (t) => [index("knowledge_updated").on(t.updatedAt, t.id)],
);

export const agentSessions = sqliteTable("agent_sessions", {
  name: text("name").primaryKey(),
  channel: text("channel"),
  /** JSON document, size-capped on the way in. */
  state: text("state").notNull(),
  rev: integer("rev").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  updatedBy: text("updated_by").notNull(),
});

export const events = sqliteTable("events", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  type: text("type").notNull(),
  payload: text("payload").notNull(),
  actor: text("actor").notNull(),
  at: integer("at").notNull(),
});

export const artifacts = sqliteTable("artifacts", {
  name: text("name").primaryKey(),
  contentType: text("content_type").notNull(),
  /** The bytes live inside the encrypted database, so they are never plaintext on disk. */
  bytes: blob("bytes", { mode: "buffer" }).notNull(),
  size: integer("size").notNull(),
  sha256: text("sha256").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  updatedBy: text("updated_by").notNull(),
});

export const links = sqliteTable(
  "links",
  {
    fromId: text("from_id")
      .notNull()
      .references(() => knowledge.id, { onDelete: "cascade" }),
    toId: text("to_id")
      .notNull()
      .references(() => knowledge.id, { onDelete: "cascade" }),
    relation: text("relation").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by").notNull(),
  },
  (t) => [primaryKey({ columns: [t.fromId, t.toId, t.relation] }), index("links_to").on(t.toId)],
);

/** One row per setting; `value` is JSON. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull().default(sql`0`),
});

export const auditLog = auditLogTable();
export const auditHead = auditHeadTable();

export const workspaceSchema = { knowledge, agentSessions, events, artifacts, links, settings, auditLog, auditHead };
export type WorkspaceSchema = typeof workspaceSchema;
export type KnowledgeRow = typeof knowledge.$inferSelect;
