import path from "node:path";
import { and, count, eq, gt, isNull } from "drizzle-orm";
import { invitations, memberships, oauthGrants, teamTokens } from "@/db/control/schema";
import { getConfig } from "../config";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";
import { bytesUnder } from "../operator/disk";
import type { LimitName, Plan } from "./plans";
import { planInForce } from "./subscriptions";

/**
 * The plan's limits, checked where the thing is created (lib/access/members.ts, invitations.ts,
 * tokens.ts, lib/oauth/consent.ts, the workspace writes), so the REST API, MCP, the portal and
 * the CLI all meet the same rule. Going past one is a 402 naming the plan and the limit;
 * nothing is created. A downgrade deletes nothing: the workspace just cannot grow until it fits.
 * Billing off: every plan is UNLIMITED and nothing is counted.
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

export class PlanLimitError extends HttpError {
  constructor(plan: Plan, limit: LimitName, allowed: number, used: number) {
    const noun = LIMIT_NOUNS[limit];
    super(
      402,
      "plan_limit",
      `The ${plan.name} plan allows ${allowed} ${allowed === 1 ? noun.one : noun.many}; this workspace has ${used}. Nothing was changed: the owner can upgrade on the Billing page, or make room first.`,
      {},
      undefined,
      { plan: plan.id, limit, allowed, used },
    );
  }
}

export function workspaceStorageBytes(workspaceId: string): number {
  // The id matched WORKSPACE_ID_PATTERN when its row was made: a folder name, never a path out.
  return bytesUnder(path.join(getConfig().dataDir, "workspaces", workspaceId));
}

async function countOf(limit: Exclude<LimitName, "storageMb">, workspaceId: string, db: Reader, now: number): Promise<number> {
  const one = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
  switch (limit) {
    case "members": {
      const members = await one(db.select({ n: count() }).from(memberships).where(eq(memberships.workspaceId, workspaceId)));
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
      return one(db.select({ n: count() }).from(oauthGrants).where(and(eq(oauthGrants.workspaceId, workspaceId), isNull(oauthGrants.revokedAt))));
  }
}

/** What the workspace uses of each limit: the Billing page's figures. */
export async function workspaceUsage(workspaceId: string, reader?: Reader, now = Date.now()): Promise<Usage> {
  const db = reader ?? (await getControlDb()).db;
  return {
    members: await countOf("members", workspaceId, db, now),
    storageMb: Math.ceil(workspaceStorageBytes(workspaceId) / MB),
    teamTokens: await countOf("teamTokens", workspaceId, db, now),
    aiClients: await countOf("aiClients", workspaceId, db, now),
  };
}

/**
 * Throws a PlanLimitError when one more `limit` would pass the plan. Pass the transaction that
 * creates the thing, so two requests at once cannot both take the last place.
 */
export async function assertRoomFor(limit: Exclude<LimitName, "storageMb">, workspaceId: string, reader?: Reader, now = Date.now()): Promise<void> {
  if (!getConfig().billing) return;
  const db = reader ?? (await getControlDb()).db;
  const plan = await planInForce(workspaceId, db);
  const allowed = plan.limits[limit];
  if (allowed === null) return;
  const used = await countOf(limit, workspaceId, db, now);
  if (used + 1 > allowed) throw new PlanLimitError(plan, limit, allowed, used);
}

/** Throws a PlanLimitError when `incomingBytes` more would pass the plan's storage: checked before the write, so nothing is stored. */
export async function assertStorageFor(workspaceId: string, incomingBytes: number): Promise<void> {
  if (!getConfig().billing) return;
  const plan = await planInForce(workspaceId);
  const allowedMb = plan.limits.storageMb;
  if (allowedMb === null) return;
  const used = workspaceStorageBytes(workspaceId);
  if (used + incomingBytes > allowedMb * MB) throw new PlanLimitError(plan, "storageMb", allowedMb, Math.ceil(used / MB));
}
