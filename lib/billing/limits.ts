import { and, count, countDistinct, eq, gt, isNull, sql } from "drizzle-orm";
import { invitations, memberships, oauthGrants, teamTokens } from "@/db/control/schema";
import { getConfig } from "../config";
import { getControlDb, withWorkspace, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import type { LimitName, Plan } from "./plans";
import { planInForce } from "./subscriptions";

/**
 * The plan's limits, checked where the thing is created (lib/access/invitations.ts, issuing and
 * accepting; lib/access/tokens.ts; lib/oauth/consent.ts and grants.ts; the writes in
 * lib/workspace/), so the REST API, MCP, the portal and the CLI all meet the same rule. Going past one is a 402 naming the plan and the limit;
 * nothing is created. A downgrade deletes nothing: the workspace just cannot grow until it fits.
 * Billing off: every plan is UNLIMITED and nothing is counted.
 *
 * What counts:
 *  - members: memberships plus pending invitations (an invitation holds the place it would
 *    take), except when accepting one, where the memberships alone must leave room: its place
 *    was counted while it was pending, but a downgrade since may have taken it away;
 *  - team tokens that still work (not revoked, not expired);
 *  - AI clients: one per person and client with a live grant in the workspace, so a client
 *    that connects again (a new consent makes a new grant) takes no second place;
 *  - storage: the pages the workspace's database uses (free pages left by deletions do not
 *    count, so deleting data makes room again; the -wal file is a cache of those pages).
 */
export type Usage = Record<LimitName, number>;

type Reader = Pick<ControlTx, "select">;

const MB = 1024 * 1024;

export const LIMIT_NOUNS: Record<LimitName, { one: string; many: string }> = {
  members: { one: "member", many: "members (pending invitations included)" },
  storageMb: { one: "MB of storage", many: "MB of storage" },
  teamTokens: { one: "team token", many: "team tokens" },
  aiClients: { one: "connected AI client", many: "connected AI clients" },
};

/** Accepting an invitation counts memberships alone. */
const JOINING_NOUN = { one: "member", many: "members" };

export class PlanLimitError extends HttpError {
  constructor(plan: Plan, limit: LimitName, allowed: number, used: number, noun = LIMIT_NOUNS[limit]) {
    const has = limit === "storageMb" ? `this workspace uses ${used} MB, and this write would take it past that` : `this workspace has ${used}`;
    super(
      402,
      "plan_limit",
      `The ${plan.name} plan allows ${allowed} ${allowed === 1 ? noun.one : noun.many}; ${has}. Nothing was changed: the owner can upgrade on the Billing page, or make room first.`,
      {},
      undefined,
      { plan: plan.id, limit, allowed, used },
    );
  }
}

/** The bytes of data the workspace holds: its database's pages in use, whether they sit in the file or still in its -wal. */
export async function workspaceStorageBytes(workspaceId: string): Promise<number> {
  const [row] = await withWorkspace(workspaceId, (db) =>
    db.rows("SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()) AS pages, (SELECT page_size FROM pragma_page_size()) AS size"),
  );
  return Number(row?.pages ?? 0) * Number(row?.size ?? 0);
}

export type CountedLimit = Exclude<LimitName, "storageMb">;

export type RoomOptions = {
  /** The transaction that creates the thing (required inside one: the control handle is held by it). */
  reader?: Reader;
  now?: number;
  /** members: an invitation being accepted, so only memberships are counted. */
  joining?: boolean;
  /** aiClients: the person and client being connected; if they already hold a live grant here, no new place is taken. */
  connecting?: { userId: string; clientId: string };
};

const one = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;

async function countOf(limit: CountedLimit, workspaceId: string, db: Reader, now: number, options: RoomOptions = {}): Promise<number> {
  switch (limit) {
    case "members": {
      const members = await one(db.select({ n: count() }).from(memberships).where(eq(memberships.workspaceId, workspaceId)));
      if (options.joining) return members;
      const pending = await one(
        db
          .select({ n: count() })
          .from(invitations)
          .where(and(eq(invitations.workspaceId, workspaceId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, now))),
      );
      return members + pending;
    }
    case "teamTokens":
      return one(db.select({ n: count() }).from(teamTokens).where(and(eq(teamTokens.workspaceId, workspaceId), isNull(teamTokens.revokedAt), gt(teamTokens.expiresAt, now))));
    case "aiClients":
      return one(
        db
          .select({ n: countDistinct(sql`${oauthGrants.userId} || ' ' || ${oauthGrants.clientId}`) })
          .from(oauthGrants)
          .where(and(eq(oauthGrants.workspaceId, workspaceId), isNull(oauthGrants.revokedAt))),
      );
  }
}

/** Whether the thing being created is one already counted: a person's client connecting again. */
async function alreadyCounted(limit: CountedLimit, workspaceId: string, db: Reader, options: RoomOptions): Promise<boolean> {
  if (limit !== "aiClients" || !options.connecting) return false;
  const { userId, clientId } = options.connecting;
  const live = await one(
    db
      .select({ n: count() })
      .from(oauthGrants)
      .where(and(eq(oauthGrants.workspaceId, workspaceId), eq(oauthGrants.userId, userId), eq(oauthGrants.clientId, clientId), isNull(oauthGrants.revokedAt))),
  );
  return live > 0;
}

/** What the workspace uses of each limit: the Billing page's figures. */
export async function workspaceUsage(workspaceId: string, reader?: Reader, now = Date.now()): Promise<Usage> {
  const db = reader ?? (await getControlDb()).db;
  return {
    members: await countOf("members", workspaceId, db, now),
    storageMb: Math.ceil((await workspaceStorageBytes(workspaceId)) / MB),
    teamTokens: await countOf("teamTokens", workspaceId, db, now),
    aiClients: await countOf("aiClients", workspaceId, db, now),
  };
}

/**
 * Throws a PlanLimitError when one more `limit` would pass the plan. Pass the transaction that
 * creates the thing, so two requests at once cannot both take the last place.
 */
export async function assertRoomFor(limit: CountedLimit, workspaceId: string, options: RoomOptions = {}): Promise<void> {
  if (!getConfig().billing) return;
  const db = options.reader ?? (await getControlDb()).db;
  const plan = await planInForce(workspaceId, db);
  const allowed = plan.limits[limit];
  if (allowed === null) return;
  if (await alreadyCounted(limit, workspaceId, db, options)) return;
  const used = await countOf(limit, workspaceId, db, options.now ?? Date.now(), options);
  if (used + 1 > allowed) throw new PlanLimitError(plan, limit, allowed, used, options.joining ? JOINING_NOUN : undefined);
}

/**
 * Throws a PlanLimitError when `incomingBytes` more would pass the plan's storage. Called before
 * the write's transaction (never inside one: it reads the workspace's own handle), so nothing is
 * stored. Two writes at once can each pass it: storage is a soft edge, unlike a member's place.
 */
export async function assertStorageFor(workspaceId: string, incomingBytes: number): Promise<void> {
  if (!getConfig().billing) return;
  const plan = await planInForce(workspaceId);
  const allowedMb = plan.limits.storageMb;
  if (allowedMb === null) return;
  const used = await workspaceStorageBytes(workspaceId);
  if (used + incomingBytes > allowedMb * MB) throw new PlanLimitError(plan, "storageMb", allowedMb, Math.ceil(used / MB));
}

/** What a JSON write carries, as assertStorageFor counts it. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
