import { and, count, eq, isNull } from "drizzle-orm";
import { expect } from "vitest";
import { invitations, memberships, oauthCodes, oauthGrants, subscriptions, teamTokens, type SubscriptionRow } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { issueTeamToken } from "@/lib/access/tokens";
import { getControlDb } from "@/lib/db/store";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { userInWorkspace } from "./api";
import { jsonOf } from "./harness";
import { newRazorpayId } from "./razorpay";

/**
 * Fixtures for the plan-limit tests (billing-limits*.test.ts): a workspace on the free plan of
 * test/razorpay.ts's writePlansFile() (members 2, storage 1 MB, team tokens 1, AI clients 1),
 * whose owner has issued the one admin token that plan allows.
 */
export async function freeWorkspace() {
  const owner = await userInWorkspace("", null);
  const workspace = await createWorkspace({ type: "user", userId: owner.user.id }, "Team");
  const access = await authorize({ kind: "user", userId: owner.user.id }, workspace.id, "tokens");
  const { token: admin } = await issueTeamToken(access, { name: "admin", role: "admin", expiresInDays: 30 });
  return { workspaceId: workspace.id, owner: owner.user, ownerCookie: owner.cookie, admin };
}

const COUNTED = { memberships, invitations, team_tokens: teamTokens, oauth_grants: oauthGrants, oauth_codes: oauthCodes };

/** Rows of `table` for the workspace (invitations: pending ones only): what a refused request must leave as it was. */
export async function rowsOf(table: keyof typeof COUNTED, workspaceId: string): Promise<number> {
  const control = await getControlDb();
  const t = COUNTED[table];
  const pending = table === "invitations" ? and(isNull(invitations.acceptedAt), isNull(invitations.revokedAt)) : undefined;
  const [row] = await control.db.select({ n: count() }).from(t).where(and(eq(t.workspaceId, workspaceId), pending));
  return row?.n ?? 0;
}

/** A subscription row as the webhooks would leave it, written directly: the plan in force is all these tests read. */
export async function subscribe(workspaceId: string, userId: string, planId: string, status: SubscriptionRow["status"] = "active"): Promise<string> {
  const id = newRazorpayId("sub");
  const now = Date.now();
  const control = await getControlDb();
  await control.db.insert(subscriptions).values({ id, workspaceId, userId, planId, status, createdAt: now, updatedAt: now, eventAt: now });
  return id;
}

export async function setSubscriptionStatus(id: string, status: SubscriptionRow["status"]): Promise<void> {
  const control = await getControlDb();
  await control.db.update(subscriptions).set({ status, updatedAt: Date.now() }).where(eq(subscriptions.id, id));
}

/** A 402 in the one error shape, naming the plan and the limit. */
export async function expectPlanLimit(response: Response, limit: string, allowed: number, used: number, plan = { id: "free", name: "Free" }): Promise<void> {
  expect(response.status).toBe(402);
  const body = await jsonOf(response);
  expect(body).toMatchObject({ error: "plan_limit", plan: plan.id, limit, allowed, used });
  expect(body.requestId).toEqual(expect.any(String));
  expect(body.message).toContain(`The ${plan.name} plan allows ${allowed}`);
}
