import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { auditLog, users } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { issueOperatorToken } from "@/lib/access/operator-token";
import { issueTeamToken } from "@/lib/access/tokens";
import { readAccessEpoch } from "@/lib/db/access-epoch";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { mcpRequest, rpc } from "./mcp-client";
import { connected, refresh, refusal, type Tokens } from "./oauth-attack-helpers";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

const CLI = { type: "system" as const, id: "cli" };
const suspend = (operator: string, userId: string) => request(`/api/operator/users/${encodeURIComponent(userId)}/suspend`, { token: operator, method: "POST" });
const unsuspend = (operator: string, userId: string) => request(`/api/operator/users/${encodeURIComponent(userId)}/unsuspend`, { token: operator, method: "POST" });

/** A person (admin in their workspace) holding all three kinds of credential: a session, a team token they issued, an AI client's tokens. */
async function personWithEverything() {
  const fx = await connected({ role: "admin", scope: "search knowledge offline_access" });
  const access = await authorize({ kind: "user", userId: fx.userId }, fx.workspaceId, "tokens");
  const { token: teamToken } = await issueTeamToken(access, { name: "ci", role: "viewer", expiresInDays: 30 });
  // Someone else's token in the same workspace: it must keep working.
  const owner = await workspaceWithTokens();
  return { ...fx, teamToken, bystander: owner };
}

/** What each credential answers now. */
async function answers(fx: Awaited<ReturnType<typeof personWithEverything>>) {
  return {
    portal: (await request("/api/workspaces", { cookie: fx.cookie })).status,
    restWithCookie: (await request(workspacePath(fx.workspaceId, "/knowledge"), { cookie: fx.cookie })).status,
    teamToken: (await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.teamToken })).status,
    mcp: (await mcpRequest(rpc("tools/list"), { token: fx.tokens.access_token })).status,
    bystander: (await request(workspacePath(fx.bystander.workspaceId, "/knowledge"), { token: fx.bystander.viewer })).status,
  };
}

describe("suspending a person", () => {
  it("stops their session, the team tokens they issued and their AI client on the next request; unsuspending gives them back, no new tokens", async () => {
    const fx = await personWithEverything();
    const { token: operator } = await issueOperatorToken(CLI);
    expect(await answers(fx)).toEqual({ portal: 200, restWithCookie: 200, teamToken: 200, mcp: 200, bystander: 200 });
    const epoch = await readAccessEpoch();

    const suspended = await suspend(operator, fx.userId);
    expect(suspended.status).toBe(200);
    const body = await jsonOf<{ suspended: boolean; suspendedAt: number; changed: boolean }>(suspended);
    expect(body).toMatchObject({ userId: fx.userId, suspended: true, changed: true });
    expect(await readAccessEpoch()).toBeGreaterThan(epoch);

    expect(await answers(fx)).toEqual({ portal: 403, restWithCookie: 403, teamToken: 401, mcp: 401, bystander: 200 });
    const portal = await jsonOf(await request("/api/workspaces", { cookie: fx.cookie }));
    expect(portal).toMatchObject({ error: "account_suspended" });
    expect(String(portal.message)).toMatch(/suspended by the operator/);
    // The client cannot get fresh tokens either, and its grant is not revoked: it comes back.
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });

    // Twice is once: the first time stays.
    const again = await jsonOf<{ suspendedAt: number; changed: boolean }>(await suspend(operator, fx.userId));
    expect(again).toMatchObject({ suspendedAt: body.suspendedAt, changed: false });

    const lifted = await jsonOf(await unsuspend(operator, fx.userId));
    expect(lifted).toMatchObject({ suspended: false, suspendedAt: null, changed: true });
    expect(await answers(fx)).toEqual({ portal: 200, restWithCookie: 200, teamToken: 200, mcp: 200, bystander: 200 });
    const refreshed = await refresh(fx.client, fx.tokens.refresh_token!);
    expect(refreshed.status).toBe(200);
    expect((await mcpRequest(rpc("tools/list"), { token: ((await refreshed.json()) as Tokens).access_token })).status).toBe(200);
    expect(await jsonOf(await unsuspend(operator, fx.userId))).toMatchObject({ changed: false });

    const { db } = await getControlDb();
    const rows = await db.select().from(auditLog).where(eq(auditLog.target, fx.userId));
    const operatorRows = rows.filter((row) => row.action.startsWith("operator."));
    expect(operatorRows.map((row) => [row.action, row.actorType, row.actorId, JSON.parse(row.details) as unknown])).toEqual([
      ["operator.user_suspend", "system", "operator:token", { changed: true }],
      ["operator.user_suspend", "system", "operator:token", { changed: false }],
      ["operator.user_unsuspend", "system", "operator:token", { changed: true }],
      ["operator.user_unsuspend", "system", "operator:token", { changed: false }],
    ]);
  });

  it("a suspended person cannot sign in again, and is told why once the password is right", async () => {
    const ws = await workspaceWithTokens();
    const { token: operator } = await issueOperatorToken(CLI);
    expect((await suspend(operator, ws.owner.id)).status).toBe(200);
    const signIn = (password: string) => request("/api/auth/sign-in", { body: { email: ws.owner.email, password }, headers: { origin: "http://localhost:3000" } });
    const wrong = await signIn("not the password");
    expect(wrong.status).toBe(401);
    const right = await signIn("correct horse battery");
    expect(right.status).toBe(403);
    expect((await jsonOf(right)).error).toBe("account_suspended");
    expect(right.headers.get("set-cookie")).toBeNull();
    // The team tokens they issued rest too.
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.admin })).status).toBe(401);
    expect((await unsuspend(operator, ws.owner.id)).status).toBe(200);
    expect((await signIn("correct horse battery")).status).toBe(200);
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.admin })).status).toBe(200);
  });

  it("an unknown id, another instance's id, a closed account's tombstone and junk are each a 404 that changes nothing", async () => {
    const ws = await workspaceWithTokens();
    const { token: operator } = await issueOperatorToken(CLI);
    const { db } = await getControlDb();
    const closed = await workspaceWithTokens();
    await db.update(users).set({ closedAt: Date.now() }).where(eq(users.id, closed.owner.id));
    const before = JSON.stringify(await db.select({ id: users.id, suspendedAt: users.suspendedAt }).from(users));
    const epoch = await readAccessEpoch();
    for (const id of ["usr_00000000000000000000000000000000", ws.owner.id.replace(/.$/, (c) => (c === "a" ? "b" : "a")), closed.owner.id, "../../etc", "x".repeat(300), ws.workspaceId]) {
      for (const act of [suspend, unsuspend]) {
        const response = await act(operator, id);
        expect(response.status, id).toBe(404);
        expect((await jsonOf(response)).error).toBe("not_found");
      }
    }
    expect(JSON.stringify(await db.select({ id: users.id, suspendedAt: users.suspendedAt }).from(users))).toBe(before);
    expect(await readAccessEpoch()).toBe(epoch);
  });

  it("is for the operator token alone: a person's own session or an admin team token cannot suspend anyone", async () => {
    const ws = await workspaceWithTokens();
    const victim = await workspaceWithTokens();
    const cookieResponse = await request(`/api/operator/users/${victim.owner.id}/suspend`, { method: "POST", cookie: (await personWithEverything()).cookie });
    expect(cookieResponse.status).toBe(401);
    expect((await request(`/api/operator/users/${victim.owner.id}/suspend`, { method: "POST", token: ws.admin })).status).toBe(401);
    const { db } = await getControlDb();
    const [row] = await db.select({ suspendedAt: users.suspendedAt }).from(users).where(eq(users.id, victim.owner.id));
    expect(row?.suspendedAt).toBeNull();
  });
});
