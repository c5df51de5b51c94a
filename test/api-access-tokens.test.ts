import { beforeEach, describe, expect, it } from "vitest";
import * as knowledgeList from "@/app/api/v1/workspaces/[workspaceId]/knowledge/route";
import * as memberItem from "@/app/api/v1/workspaces/[workspaceId]/members/[userId]/route";
import * as search from "@/app/api/v1/workspaces/[workspaceId]/search/route";
import * as tokenItem from "@/app/api/v1/workspaces/[workspaceId]/tokens/[tokenId]/route";
import * as tokenList from "@/app/api/v1/workspaces/[workspaceId]/tokens/route";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { callApiAs, jsonOf, sessionCookieForUser, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

type Issued = { token: string; summary: { id: string; scopes: string[]; role: string | null } };

async function setup() {
  const ws = await workspaceWithTokens();
  const admin = await userInWorkspace(ws.workspaceId, "admin");
  const member = await userInWorkspace(ws.workspaceId, "member");
  return { ...ws, ownerCookie: await sessionCookieForUser(ws.owner.id), adminUser: admin, memberUser: member };
}

const issue = (auth: { token?: string; cookie?: string }, workspaceId: string, body: unknown) =>
  callApiAs(tokenList.POST, { ...auth, params: { workspaceId }, body });

const write = (token: string, workspaceId: string) =>
  callApiAs(knowledgeList.POST, { token, params: { workspaceId }, body: { title: "From a script", body: "text" } });
const read = (token: string, workspaceId: string) => callApiAs(search.GET, { token, params: { workspaceId }, query: { q: "script" } });

describe("issuing team tokens", () => {
  it("an admin user issues a token once; it works and the list never shows it", async () => {
    const fx = await setup();
    const response = await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { name: "ci", role: "member", expiresInDays: 7 });
    expect(response.status).toBe(201);
    const issued = await jsonOf<Issued>(response);
    expect(issued.token).toMatch(/^enc_/);
    expect(issued.summary.role).toBe("member");
    expect((await write(issued.token, fx.workspaceId)).status).toBe(201);
    const list = await callApiAs(tokenList.GET, { cookie: fx.adminUser.cookie, params: { workspaceId: fx.workspaceId } });
    const text = await list.text();
    expect(text).toContain(issued.summary.id);
    expect(text).not.toContain(issued.token);
    expect(text).not.toMatch(/enc_[A-Za-z0-9_-]{20}/);
  });

  it("a member token cannot issue (insufficient scope) and an admin token cannot either (tokens do not mint tokens)", async () => {
    const fx = await setup();
    const before = await snapshotWorkspace(fx.workspaceId);
    const byMember = await issue({ token: fx.member }, fx.workspaceId, { role: "viewer" });
    expect(byMember.status).toBe(403);
    expect((await jsonOf(byMember)).error).toBe("insufficient_scope");
    for (const body of [{ role: "viewer" }, { role: "admin" }, { scopes: ["search"] }]) {
      const byAdminToken = await issue({ token: fx.admin }, fx.workspaceId, body);
      expect(byAdminToken.status).toBe(403);
      expect((await jsonOf(byAdminToken)).error).toBe("tokens_cannot_issue_tokens");
    }
    const byMemberUser = await issue({ cookie: fx.memberUser.cookie }, fx.workspaceId, { role: "viewer" });
    expect(byMemberUser.status).toBe(403);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("nobody issues a token with billing, ownership or workspace deletion, not even the owner", async () => {
    const fx = await setup();
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const cookie of [fx.adminUser.cookie, fx.ownerCookie]) {
      for (const scopes of [["billing"], ["search", "ownership"], ["workspace:delete"]]) {
        const response = await issue({ cookie }, fx.workspaceId, { name: "greedy", scopes });
        expect(response.status, scopes.join()).toBe(403);
        expect((await jsonOf(response)).error).toBe("scope_exceeds_role");
      }
    }
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("refuses a token body that is neither a role nor a scope list, or lives too long", async () => {
    const fx = await setup();
    const bodies = [
      {},
      { role: "viewer", scopes: ["search"] },
      { role: "owner" },
      { scopes: [] },
      { scopes: ["not-a-scope"] },
      { role: "viewer", expiresInDays: 0 },
      { role: "viewer", expiresInDays: 366 },
      { role: "viewer", name: "" },
    ];
    for (const body of bodies) {
      const response = await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await jsonOf(response)).error).toBe("invalid_request");
    }
  });

  it("a scope-list token can do exactly what it lists", async () => {
    const fx = await setup();
    const { token } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { scopes: ["search"] }));
    expect((await read(token, fx.workspaceId)).status).toBe(200);
    const denied = await write(token, fx.workspaceId);
    expect(denied.status).toBe(403);
    expect((await jsonOf(denied)).message).toContain('"knowledge"');
  });
});

describe("a token follows its issuer's current role", () => {
  it("demoting the issuer to viewer takes write access away at once; promoting back restores it", async () => {
    const fx = await setup();
    const { token } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "admin" }));
    expect((await write(token, fx.workspaceId)).status).toBe(201);
    const setRole = (role: string) =>
      callApiAs(memberItem.PATCH, { cookie: fx.ownerCookie, params: { workspaceId: fx.workspaceId, userId: fx.adminUser.user.id }, body: { role } });
    expect((await setRole("viewer")).status).toBe(200);
    const denied = await write(token, fx.workspaceId);
    expect(denied.status).toBe(403);
    expect((await jsonOf(denied)).error).toBe("insufficient_scope");
    expect((await read(token, fx.workspaceId)).status).toBe(200);
    const list = await callApiAs(tokenList.GET, { token, params: { workspaceId: fx.workspaceId } });
    expect(list.status).toBe(403);
    expect((await setRole("admin")).status).toBe(200);
    expect((await write(token, fx.workspaceId)).status).toBe(201);
  });

  it("removing the issuer from the workspace makes the token unknown (401)", async () => {
    const fx = await setup();
    const { token } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "viewer" }));
    expect((await read(token, fx.workspaceId)).status).toBe(200);
    const removed = await callApiAs(memberItem.DELETE, {
      cookie: fx.ownerCookie,
      method: "DELETE",
      params: { workspaceId: fx.workspaceId, userId: fx.adminUser.user.id },
    });
    expect(removed.status).toBe(204);
    const refused = await read(token, fx.workspaceId);
    expect(refused.status).toBe(401);
    expect((await jsonOf(refused)).error).toBe("invalid_token");
    // The removed admin's own cookie no longer sees the workspace either.
    expect((await callApiAs(search.GET, { cookie: fx.adminUser.cookie, params: { workspaceId: fx.workspaceId } })).status).toBe(404);
  });
});

describe("revoking", () => {
  it("is immediate, by a user or an admin token, and a second revoke changes nothing", async () => {
    const fx = await setup();
    const first = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "member" }));
    const second = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "member" }));
    const revoke = (auth: { token?: string; cookie?: string }, tokenId: string) =>
      callApiAs(tokenItem.DELETE, { ...auth, method: "DELETE", params: { workspaceId: fx.workspaceId, tokenId } });

    expect((await write(first.token, fx.workspaceId)).status).toBe(201);
    expect((await revoke({ cookie: fx.adminUser.cookie }, first.summary.id)).status).toBe(204);
    expect((await write(first.token, fx.workspaceId)).status).toBe(401);

    expect((await revoke({ token: fx.admin }, second.summary.id)).status).toBe(204);
    expect((await read(second.token, fx.workspaceId)).status).toBe(401);

    const before = await snapshotWorkspace(fx.workspaceId);
    expect((await revoke({ token: fx.admin }, second.summary.id)).status).toBe(204);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await revoke({ token: fx.admin }, "tok_" + "0".repeat(32))).status).toBe(404);
  });

  it("an admin token can revoke itself, and is refused from then on", async () => {
    const fx = await setup();
    const { token, summary } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "admin" }));
    const response = await callApiAs(tokenItem.DELETE, { token, method: "DELETE", params: { workspaceId: fx.workspaceId, tokenId: summary.id } });
    expect(response.status).toBe(204);
    expect((await read(token, fx.workspaceId)).status).toBe(401);
  });
});
