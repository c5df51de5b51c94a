import { and, asc, desc, eq, gt, gte, inArray, lt, lte, type SQL } from "drizzle-orm";
import { z } from "zod";
import { oauthClients, oauthGrants, teamTokens, users } from "@/db/control/schema";
import type { Drizzle } from "../db/database";
import { getControlDb } from "../db/store";
import { text } from "../http/text";
import type { AuditRow, AuditTable } from "./chain";

/**
 * Reading an audit trail: the one query behind the workspace Audit page, REST
 * `GET …/audit`, MCP `audit_tail` and Account › Activity. Newest first, filtered by actor,
 * action and time, paged by seq (which never repeats and never moves, unlike time), with each
 * actor's name looked up in control.db for people to read.
 */
export const AUDIT_PAGE_MAX = 200;

// Actors as principals are labelled (principalLabel): `user:<id>`, `token:<id>`, `oauth:<id>`,
// `system:<id>`, or a bare type for every actor of it (`anonymous`, `token`).
const ACTOR = /^(user|token|oauth|system|anonymous)(?::([A-Za-z0-9_.-]{1,128}))?$/;
// An action (`knowledge.delete`) or every action under a prefix (`knowledge.*`).
const ACTION = /^[a-z][a-z_]*(?:\.[a-z][a-z_]*)*(?:\.\*)?$/;
const MILLIS = /^\d{1,15}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

const INSTANT_MESSAGE = "Use an ISO 8601 date (2026-03-31), a date-time with a zone (2026-03-31T12:00:00Z), or milliseconds since 1970.";

/** A time bound: ms, an ISO date-time, or an ISO date (a `to` date runs to the end of that day, UTC). */
const instant = (bound: "from" | "to") =>
  text(40).transform((value, ctx) => {
    if (MILLIS.test(value)) return Number(value);
    if (z.iso.date().safeParse(value).success) return Date.parse(`${value}T00:00:00Z`) + (bound === "to" ? DAY_MS - 1 : 0);
    const at = z.iso.datetime({ offset: true }).safeParse(value).success ? Date.parse(value) : NaN;
    if (Number.isFinite(at)) return at;
    ctx.addIssue({ code: "custom", message: INSTANT_MESSAGE });
    return z.NEVER;
  });

// Digits only: Number() would also take "", "0x1f" and "1e3".
const seqCursor = text(16)
  .regex(MILLIS, "A cursor is a seq (digits), from nextCursor or prevCursor.")
  .transform(Number);

export const auditQuerySchema = z
  .object({
    actor: text(140).regex(ACTOR, "Name an actor as user:<id>, token:<id>, oauth:<id>, system:<id>, or a type alone (anonymous).").optional().describe("Only this actor, e.g. `token:tok_…`"),
    action: text(80).regex(ACTION, "Name an action (knowledge.delete) or a prefix (knowledge.*).").optional().describe("An action, or a prefix ending in `.*`"),
    from: instant("from").optional().describe("From this time on (inclusive): ISO 8601 date or date-time, or ms"),
    to: instant("to").optional().describe("Up to this time (inclusive; a date means to the end of that day, UTC)"),
    after: seqCursor.optional().describe("Only rows after this seq: pass `prevCursor` to page to newer rows"),
    before: seqCursor.optional().describe("Only rows before this seq: pass `nextCursor` to page to older rows"),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { path: ["to"], message: "`to` is before `from`." })
  .refine((q) => q.after === undefined || q.before === undefined || q.after < q.before, { path: ["before"], message: "`before` must be greater than `after`." });

export type AuditQuery = z.infer<typeof auditQuerySchema>;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A row as people read it: who (with a name), what, when, from where; not the chain hashes. */
export type AuditTrailRow = {
  seq: number;
  at: number;
  actorType: AuditRow["actorType"];
  actorId: string | null;
  /** The person's email, the token's or AI client's name; null when nothing by that id is left. */
  actorName: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Json;
};

/** A page, newest first. `nextCursor`: pass as `before` for older rows; `prevCursor`: as `after` for newer ones; null when there are none. */
export type AuditPage = { items: AuditTrailRow[]; nextCursor: number | null; prevCursor: number | null };

type AnyDrizzle = Drizzle<Record<string, unknown>>;

/** `knowledge.*` covers `knowledge.` up to, not including, `knowledge/` (the next character): a range on the (action, seq) index. */
function actionCondition(table: AuditTable, action: string): SQL | undefined {
  if (!action.endsWith(".*")) return eq(table.action, action);
  const prefix = action.slice(0, -1);
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return and(gte(table.action, prefix), lt(table.action, end));
}

function filters(table: AuditTable, query: AuditQuery): SQL[] {
  const out: SQL[] = [];
  const actor = query.actor ? ACTOR.exec(query.actor) : null;
  if (actor) {
    out.push(eq(table.actorType, actor[1] as AuditRow["actorType"]));
    if (actor[2] !== undefined) out.push(eq(table.actorId, actor[2]));
  }
  const action = query.action ? actionCondition(table, query.action) : undefined;
  if (action) out.push(action);
  if (query.from !== undefined) out.push(gte(table.at, query.from));
  if (query.to !== undefined) out.push(lte(table.at, query.to));
  return out;
}

/**
 * One page of `table` within `scope` (rows a reader may see at all) and the query's filters.
 * Without `after`, the newest rows below `before`; with it, the rows just above `after` (so a
 * `prevCursor` link shows the page before, not the newest), both returned newest first. Each
 * cursor is set only if a row lies beyond it, checked with one more row or one probe.
 */
export async function readAuditPage(db: AnyDrizzle, table: AuditTable, query: AuditQuery, scope?: SQL): Promise<{ rows: AuditRow[]; nextCursor: number | null; prevCursor: number | null }> {
  const where = [...filters(table, query), ...(scope ? [scope] : [])];
  const within = (...more: (SQL | undefined)[]) => and(...where, ...more);
  const exists = async (condition: SQL) => (await db.select({ seq: table.seq }).from(table).where(within(condition)).limit(1)).length > 0;
  const beforeBound = query.before !== undefined ? lt(table.seq, query.before) : undefined;

  if (query.after === undefined) {
    const found = await db.select().from(table).where(within(beforeBound)).orderBy(desc(table.seq)).limit(query.limit + 1);
    const rows = found.slice(0, query.limit);
    const newest = rows[0]?.seq ?? (query.before ?? 0) - 1;
    const newer = query.before !== undefined && (await exists(gt(table.seq, newest)));
    return { rows, nextCursor: found.length > query.limit ? (rows.at(-1)?.seq ?? null) : null, prevCursor: newer ? newest : null };
  }
  const found = await db.select().from(table).where(within(gt(table.seq, query.after), beforeBound)).orderBy(asc(table.seq)).limit(query.limit + 1);
  const rows = found.slice(0, query.limit).reverse();
  const oldest = rows.at(-1)?.seq ?? query.after + 1;
  const older = await exists(lt(table.seq, oldest));
  return { rows, nextCursor: older ? oldest : null, prevCursor: found.length > query.limit ? (rows[0]?.seq ?? null) : null };
}

/**
 * Names for the actors of `rows`, from control.db: a person's email, a team token's name
 * (revoked tokens keep their row, so their name), an AI client's name (`oauth:` is a grant id
 * in workspace trails, a client id in control.db's). Keyed `type:id`.
 */
export async function actorNames(rows: readonly Pick<AuditRow, "actorType" | "actorId">[]): Promise<Map<string, string>> {
  const ids = (type: AuditRow["actorType"]) => [...new Set(rows.flatMap((row) => (row.actorType === type && row.actorId ? [row.actorId] : [])))];
  const [userIds, tokenIds, oauthIds] = [ids("user"), ids("token"), ids("oauth")];
  const names = new Map<string, string>();
  const control = await getControlDb();
  if (userIds.length) for (const row of await control.db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, userIds))) names.set(`user:${row.id}`, row.email);
  if (tokenIds.length) for (const row of await control.db.select({ id: teamTokens.id, name: teamTokens.name }).from(teamTokens).where(inArray(teamTokens.id, tokenIds))) names.set(`token:${row.id}`, row.name);
  if (oauthIds.length) {
    for (const row of await control.db.select({ id: oauthClients.id, name: oauthClients.name }).from(oauthClients).where(inArray(oauthClients.id, oauthIds))) names.set(`oauth:${row.id}`, row.name);
    const grants = await control.db
      .select({ id: oauthGrants.id, name: oauthGrants.clientName, email: users.email })
      .from(oauthGrants)
      .leftJoin(users, eq(users.id, oauthGrants.userId))
      .where(inArray(oauthGrants.id, oauthIds));
    for (const row of grants) names.set(`oauth:${row.id}`, row.email ? `${row.name} (for ${row.email})` : row.name);
  }
  for (const row of rows) if (row.actorType === "system") names.set(`system:${row.actorId ?? ""}`, row.actorId === "cli" ? "operator (CLI)" : row.actorId === "operator:token" ? "operator (API token)" : "Enclave");
  return names;
}

export async function withActorNames(rows: readonly AuditRow[]): Promise<AuditTrailRow[]> {
  const names = await actorNames(rows);
  return rows.map((row) => ({
    seq: row.seq,
    at: row.at,
    actorType: row.actorType,
    actorId: row.actorId,
    actorName: names.get(`${row.actorType}:${row.actorId ?? ""}`) ?? null,
    action: row.action,
    target: row.target,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    details: JSON.parse(row.details) as Json,
  }));
}
