import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The audit table has the same shape in control.db and in every workspace.db, so both schemas
 * build it from these columns. `hash` = SHA-256 over the canonical encoding of the row plus
 * `prev_hash` (the rule and its verification live in lib/audit/chain.ts); a row changed or
 * removed breaks every later hash.
 */
export const auditColumns = {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  actorType: text("actor_type", { enum: ["user", "system", "token", "oauth", "anonymous"] }).notNull(),
  actorId: text("actor_id"),
  action: text("action").notNull(),
  target: text("target"),
  ip: text("ip"),
  userAgent: text("user_agent"),
  requestId: text("request_id"),
  details: text("details").notNull(),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
};

/**
 * The chain's head: the newest row's seq and hash (seq 0 and the genesis hash while the chain
 * is empty), rewritten in the same transaction as every append. Without it, deleting the newest
 * rows leaves a shorter chain that still verifies. One row, because each file holds one chain.
 * `anchorSeq`/`anchorHash` are where the chain starts: seq 0 and the genesis hash until the
 * retention sweep deletes old rows, then the last deleted row's seq and hash, so the oldest
 * kept row must still name it as its prev_hash (lib/audit/retention.ts).
 */
export const auditHeadColumns = {
  id: integer("id").primaryKey(),
  seq: integer("seq").notNull(),
  hash: text("hash").notNull(),
  anchorSeq: integer("anchor_seq").notNull().default(0),
  anchorHash: text("anchor_hash").notNull().default("0000000000000000000000000000000000000000000000000000000000000000"),
};

/** The audit table with the indexes its readers filter by (actor, action, time). */
export const auditLogTable = () =>
  sqliteTable("audit_log", auditColumns, (t) => [
    index("audit_log_at").on(t.at),
    index("audit_log_action").on(t.action, t.seq),
    index("audit_log_actor").on(t.actorType, t.actorId, t.seq),
    index("audit_log_target").on(t.target, t.seq),
  ]);

export const auditHeadTable = () =>
  sqliteTable("audit_head", auditHeadColumns, (t) => [check("audit_head_one_row", sql`${t.id} = 1`)]);
