import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
 * A starting anchor for retention (first kept seq, its prev_hash) would be added here as two
 * more columns; there is none yet, so every chain still verifies from seq 1.
 */
export const auditHeadColumns = {
  id: integer("id").primaryKey(),
  seq: integer("seq").notNull(),
  hash: text("hash").notNull(),
};

export const auditHeadTable = () =>
  sqliteTable("audit_head", auditHeadColumns, (t) => [check("audit_head_one_row", sql`${t.id} = 1`)]);
