import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { teamTokens, users, workspaces } from "@/db/control/schema";
import { authorize, stillAuthorized, workspaceGrant } from "@/lib/access/authorize";
import { resolveTeamToken } from "@/lib/access/bearer";
import { OPERATOR, restSurface } from "@/lib/access/principal";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { readAccessEpoch } from "@/lib/db/access-epoch";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { listAllWorkspaces } from "@/lib/workspace/workspaces";
import { sessionCookieForUser, snapshotWorkspace, teamTokenId, userInWorkspace, workspaceWithTokens } from "./api";
import { ORIGIN, request, workspacePath } from "./harness";
import { DAY_MS, deleteRequest, listed, refusalOf, restoreRequest, roleIn, transferRequest, workspaceAudit } from "./lifecycle";
import { mcpRequest, toolCall } from "./mcp-client";
import { authorizeUrl, connected, grantFor, pkce, principalOf, refresh, refusal } from "./oauth-attack-helpers";
import { consent } from "./oauth";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

/** A workspace ("Team") with its owner, an admin and a member, each signed in, and the owner's team tokens. */
async function team() {
  const ws = await workspaceWithTokens();
  const admin = await userInWorkspace(ws.workspaceId, "admin");
  const member = await userInWorkspace(ws.workspaceId, "member");
  return { ...ws, ownerCookie: await sessionCookieForUser(ws.owner.id), admin: { ...admin, token: ws.admin }, member };
}

const knowledge = (workspaceId: string, auth: { cookie?: string; token?: string }) => request(workspacePath(workspaceId, "/knowledge"), auth);

describe("transferring ownership", () => {
  it("makes the member owner and the old owner admin, audited in both chains", async () => {
    const fx = await team();
    const epoch = await readAccessEpoch();
    const response = await transferRequest(fx.workspaceId, fx.ownerCookie, fx.member.user.id);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ from: fx.owner.id, to: fx.member.user.id });
    expect(await roleIn(fx.workspaceId, fx.member.user.id)).toBe("owner");
    expect(await roleIn(fx.workspaceId, fx.owner.id)).toBe("admin");
    expect(await readAccessEpoch()).toBeGreaterThan(epoch);

    // The old owner is an admin now: handing it over again is no longer theirs to do.
    expect(await refusalOf(await transferRequest(fx.workspaceId, fx.ownerCookie, fx.admin.user.id))).toEqual({ status: 403, error: "insufficient_scope" });
    expect((await transferRequest(fx.workspaceId, fx.member.cookie, fx.owner.id)).status).toBe(200);

    const control = await getControlDb();
    const rows = await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "workspace.transfer"));
    expect(rows.map((row) => JSON.parse(row.details) as unknown)).toEqual([
      { from: fx.owner.id, to: fx.member.user.id, previousRole: "member" },
      { from: fx.member.user.id, to: fx.owner.id, previousRole: "admin" },
    ]);
    expect(rows[0]).toMatchObject({ actorType: "user", actorId: fx.owner.id, target: fx.workspaceId });
    expect(await workspaceAudit(fx.workspaceId, "workspace.transfer")).toHaveLength(2);
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: true });
    expect(await withWorkspace(fx.workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog))).toMatchObject({ ok: true });
  });

  it("is refused to an admin, a member, a stranger, and a team token; authorize() gives no principal but the owner the scope", async () => {
    const fx = await team();
    const before = await snapshotWorkspace(fx.workspaceId);
    expect(await refusalOf(await transferRequest(fx.workspaceId, fx.admin.cookie, fx.admin.user.id))).toEqual({ status: 403, error: "insufficient_scope" });
    expect(await refusalOf(await transferRequest(fx.workspaceId, fx.member.cookie, fx.member.user.id))).toEqual({ status: 403, error: "insufficient_scope" });
    const stranger = await userInWorkspace("", null);
    expect(await refusalOf(await transferRequest(fx.workspaceId, stranger.cookie, stranger.user.id))).toEqual({ status: 404, error: "not_found" });
    // The portal endpoint takes the session only: an admin token alone is nobody there.
    expect((await transferRequest(fx.workspaceId, undefined, fx.member.user.id, fx.admin.token)).status).toBe(401);
    const token = (await resolveTeamToken(fx.admin.token))!;
    await expect(authorize(token, fx.workspaceId, "ownership")).rejects.toMatchObject({ status: 403 });
    await expect(authorize(OPERATOR, fx.workspaceId, "ownership")).rejects.toMatchObject({ status: 403 });
    await expect(authorize(OPERATOR, fx.workspaceId, "workspace:delete")).rejects.toMatchObject({ status: 403 });
    await expect(authorize({ kind: "user", userId: fx.admin.user.id }, fx.workspaceId, "ownership")).rejects.toMatchObject({ status: 403 });
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("an owner's AI client is never granted ownership or deletion, so it can do neither", async () => {
    const fx = await connected({ role: "owner", scope: "search ownership workspace:delete" });
    expect(fx.tokens.scope.split(" ")).toEqual(["search", "offline_access"]);
    const principal = (await principalOf(fx.tokens.access_token))!;
    await expect(authorize(principal, fx.workspaceId, "ownership")).rejects.toMatchObject({ status: 403 });
    await expect(authorize(principal, fx.workspaceId, "workspace:delete")).rejects.toMatchObject({ status: 403 });
    const member = await userInWorkspace(fx.workspaceId, "member");
    expect((await transferRequest(fx.workspaceId, undefined, member.user.id, fx.tokens.access_token)).status).toBe(401);
    expect(await roleIn(fx.workspaceId, fx.userId)).toBe("owner");
  });

  it("to a non-member, to themself, to an owner, to a closing account or in another's workspace: refused, nothing changes", async () => {
    const fx = await team();
    const other = await team();
    const outsider = await userInWorkspace("", null);
    const coOwner = await userInWorkspace(fx.workspaceId, "owner");
    const closing = await userInWorkspace(fx.workspaceId, "member");
    const control = await getControlDb();
    await control.db.update(users).set({ closureRequestedAt: Date.now(), purgeAt: Date.now() + DAY_MS }).where(eq(users.id, closing.user.id));
    const before = await snapshotWorkspace(fx.workspaceId);
    const attempt = (userId: string, workspaceId = fx.workspaceId) => transferRequest(workspaceId, fx.ownerCookie, userId).then(refusalOf);
    expect(await attempt(outsider.user.id)).toEqual({ status: 404, error: "not_found" });
    expect(await attempt("usr_made_up")).toEqual({ status: 404, error: "not_found" });
    expect(await attempt(other.member.user.id)).toEqual({ status: 404, error: "not_found" });
    expect(await attempt(fx.owner.id)).toEqual({ status: 400, error: "transfer_to_self" });
    expect(await attempt(coOwner.user.id)).toEqual({ status: 409, error: "already_owner" });
    expect(await attempt(closing.user.id)).toEqual({ status: 409, error: "account_closing" });
    // Their own member, but another owner's workspace: they cannot see that workspace's ownership.
    expect(await attempt(other.member.user.id, other.workspaceId)).toEqual({ status: 404, error: "not_found" });
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });
});

describe("deleting a workspace", () => {
  it("is refused to an admin (403) and to the owner with the wrong name (400); nothing changes", async () => {
    const fx = await team();
    const before = await snapshotWorkspace(fx.workspaceId);
    expect(await refusalOf(await deleteRequest(fx.workspaceId, fx.admin.cookie, "Team"))).toEqual({ status: 403, error: "insufficient_scope" });
    expect(await refusalOf(await deleteRequest(fx.workspaceId, fx.member.cookie, "Team"))).toEqual({ status: 403, error: "insufficient_scope" });
    expect(await refusalOf(await deleteRequest(fx.workspaceId, (await userInWorkspace("", null)).cookie, "Team"))).toEqual({ status: 404, error: "not_found" });
    for (const wrong of ["team", "Tea", "Team2", "Team\u200b"]) {
      expect(await refusalOf(await deleteRequest(fx.workspaceId, fx.ownerCookie, wrong))).toEqual({ status: 400, error: "confirm_name_mismatch" });
    }
    expect(await refusalOf(await deleteRequest(fx.workspaceId, fx.ownerCookie, ""))).toEqual({ status: 400, error: "invalid_request" });
    // A cross-site form post with the owner's cookie never gets that far.
    const forged = await request(`/api/workspaces/${fx.workspaceId}`, { cookie: fx.ownerCookie, method: "DELETE", body: { confirmName: "Team" }, headers: { origin: "https://evil.example" } });
    expect(forged.status).toBe(403);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    const control = await getControlDb();
    expect((await control.db.select().from(workspaces).where(eq(workspaces.id, fx.workspaceId)))[0]?.deletedAt).toBeNull();
  });

  it("answers 404 to every principal on every surface at once, and revokes its tokens and AI clients", async () => {
    const fx = await team();
    const epoch = await readAccessEpoch();
    const started = Date.now();
    const response = await deleteRequest(fx.workspaceId, fx.ownerCookie, "Team");
    expect(response.status).toBe(200);
    const { purgeAt } = (await response.json()) as { purgeAt: number };
    expect(purgeAt).toBeGreaterThanOrEqual(started + 30 * DAY_MS);
    expect(await readAccessEpoch()).toBeGreaterThan(epoch);

    // People: the owner, an admin, a member — REST with the cookie, and the portal endpoints.
    for (const cookie of [fx.ownerCookie, fx.admin.cookie, fx.member.cookie]) {
      expect(await refusalOf(await knowledge(fx.workspaceId, { cookie }))).toEqual({ status: 404, error: "not_found" });
      expect(await refusalOf(await transferRequest(fx.workspaceId, cookie, fx.member.user.id))).toEqual({ status: 404, error: "not_found" });
      expect(await refusalOf(await deleteRequest(fx.workspaceId, cookie, "Team"))).toEqual({ status: 404, error: "not_found" });
    }
    // Team tokens are revoked: 401 on REST and MCP.
    for (const token of [fx.viewer, fx.admin.token]) {
      expect((await knowledge(fx.workspaceId, { token })).status).toBe(401);
      expect((await mcpRequest(toolCall("search", { query: "x" }), { token })).status).toBe(401);
    }
    const control = await getControlDb();
    const tokens = await control.db.select().from(teamTokens).where(eq(teamTokens.workspaceId, fx.workspaceId));
    expect(tokens.every((row) => row.revokedAt !== null)).toBe(true);
    // And one the revocation somehow missed is still refused: workspaceGrant hides the workspace from every principal.
    await control.db.update(teamTokens).set({ revokedAt: null }).where(eq(teamTokens.id, await teamTokenId(fx.admin.token)));
    expect(await refusalOf(await knowledge(fx.workspaceId, { token: fx.admin.token }))).toEqual({ status: 404, error: "not_found" });
    expect((await mcpRequest(toolCall("search", { query: "x" }), { token: fx.admin.token })).status).toBe(401);
    expect(await workspaceGrant((await resolveTeamToken(fx.admin.token))!, fx.workspaceId)).toBeNull();
    expect(await workspaceGrant(OPERATOR, fx.workspaceId)).toBeNull();
    expect(await workspaceGrant({ kind: "user", userId: fx.owner.id }, fx.workspaceId)).toBeNull();
    // An open event stream's re-check says no, for a cookie and a token alike.
    const streamRequest = (headers: Record<string, string>) => new Request(`${ORIGIN}${workspacePath(fx.workspaceId, "/events/stream")}`, { headers });
    expect(await stillAuthorized(streamRequest({ cookie: fx.member.cookie }), restSurface, fx.workspaceId, "events:read")).toBe(false);
    expect(await stillAuthorized(streamRequest({ authorization: `Bearer ${fx.admin.token}` }), restSurface, fx.workspaceId, "events:read")).toBe(false);

    // Lists: gone for everyone, and listed apart for its owner only.
    expect(await listed(fx.ownerCookie)).toEqual({ live: [], deleted: [fx.workspaceId] });
    expect(await listed(fx.admin.cookie)).toEqual({ live: [], deleted: [] });
    expect((await listAllWorkspaces()).map((w) => w.id)).not.toContain(fx.workspaceId);

    const [audit] = await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "workspace.delete"));
    expect(audit).toMatchObject({ actorId: fx.owner.id, target: fx.workspaceId });
    expect(JSON.parse(audit!.details)).toMatchObject({ deletedWith: "owner", purgeAt, tokensRevoked: 3, grantsRevoked: 0 });
    expect(await workspaceAudit(fx.workspaceId, "workspace.delete")).toHaveLength(1);
  });

  it("an AI client connected to it stops at once: /mcp refuses its token, it cannot refresh, and no new consent reaches it", async () => {
    const fx = await connected({ role: "member", scope: "search knowledge offline_access" });
    expect((await mcpRequest(toolCall("search", { query: "x" }), { token: fx.tokens.access_token })).status).toBe(200);
    const control = await getControlDb();
    const owner = (await control.db.query.memberships.findFirst({ where: (m, { and, eq }) => and(eq(m.workspaceId, fx.workspaceId), eq(m.role, "owner")) }))!;
    expect((await deleteRequest(fx.workspaceId, await sessionCookieForUser(owner.userId), "Team")).status).toBe(200);
    expect((await mcpRequest(toolCall("search", { query: "x" }), { token: fx.tokens.access_token })).status).toBe(401);
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect((await grantFor(fx.tokens.access_token))?.revokedReason).toBe("workspace_deleted");
    const again = await consent(authorizeUrl(fx.client.client_id, pkce().challenge), fx.cookie, { workspaceId: fx.workspaceId });
    expect(await refusalOf(again)).toEqual({ status: 404, error: "not_found" });
  });
});

describe("restoring a deleted workspace", () => {
  it("brings it back for its owner until purgeAt; revoked tokens stay revoked; audited in both chains", async () => {
    const fx = await team();
    expect((await deleteRequest(fx.workspaceId, fx.ownerCookie, "Team")).status).toBe(200);
    // Only an owner: not its admin, its member, or a stranger; each sees what any unknown id gets.
    for (const cookie of [fx.admin.cookie, fx.member.cookie, (await userInWorkspace("", null)).cookie]) {
      expect(await refusalOf(await restoreRequest(fx.workspaceId, cookie))).toEqual({ status: 404, error: "not_found" });
    }
    const restored = await restoreRequest(fx.workspaceId, fx.ownerCookie);
    expect(restored.status).toBe(200);
    expect(await restored.json()).toEqual({ workspaceId: fx.workspaceId });
    expect((await knowledge(fx.workspaceId, { cookie: fx.member.cookie })).status).toBe(200);
    expect(await listed(fx.ownerCookie)).toEqual({ live: [fx.workspaceId], deleted: [] });
    for (const token of [fx.viewer, fx.admin.token]) expect((await knowledge(fx.workspaceId, { token })).status).toBe(401);
    const control = await getControlDb();
    expect(await control.db.$count(controlAuditLog, eq(controlAuditLog.action, "workspace.restore"))).toBe(1);
    expect(await workspaceAudit(fx.workspaceId, "workspace.restore")).toHaveLength(1);
  });

  it("answers 404 for a live workspace, a made-up id, and one past its purgeAt", async () => {
    const fx = await team();
    expect(await refusalOf(await restoreRequest(fx.workspaceId, fx.ownerCookie))).toEqual({ status: 404, error: "not_found" });
    for (const id of ["ws_00000000000000000000000000000000", "..%2F..", "x".repeat(300)]) {
      expect((await restoreRequest(id, fx.ownerCookie)).status).toBe(404);
    }
    expect((await deleteRequest(fx.workspaceId, fx.ownerCookie, "Team")).status).toBe(200);
    const control = await getControlDb();
    await control.db.update(workspaces).set({ purgeAt: Date.now() - 1 }).where(eq(workspaces.id, fx.workspaceId));
    expect(await refusalOf(await restoreRequest(fx.workspaceId, fx.ownerCookie))).toEqual({ status: 404, error: "not_found" });
    expect(await listed(fx.ownerCookie)).toEqual({ live: [], deleted: [] });
  });
});
