import { integer, text } from "drizzle-orm/sqlite-core";

/**
 * The audit table has the same shape in control.db and in every workspace.db, so both schemas
 * build it from these columns. `hash` = SHA-256 over the canonical encoding of the row plus
 * `prev_hash` (see lib/audit/chain.ts); a row changed or removed breaks every later hash.
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
