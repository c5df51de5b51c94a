import { beforeEach, describe, expect, it } from "vitest";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sessionCookieForUser, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
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

const issue = (auth: { token?: string; cookie?: string }, workspaceId: string, body: unknown) => request(workspacePath(workspaceId, "/tokens"), { ...auth, body });

const write = (token: string, workspaceId: string) =>
  request(workspacePath(workspaceId, "/knowledge"), { token, body: { title: "From a script", body: "text" } });
const read = (token: string, workspaceId: string) => request(workspacePath(workspaceId, "/search"), { token, query: { q: "script" } });
async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect((await jsonOf(response)).error).toBe(error);
}

const memberPath = (workspaceId: string, userId: string) => workspacePath(workspaceId, `/members/${encodeURIComponent(userId)}`);
const tokenPath = (workspaceId: string, tokenId: string) => workspacePath(workspaceId, `/tokens/${encodeURIComponent(tokenId)}`);

describe("issuing team tokens", () => {
  it("an admin user issues a token once; it works and the list never shows it", async () => {
    const fx = await setup();
    const response = await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { name: "ci", role: "member", expiresInDays: 7 });
    expect(response.status).toBe(201);
    const issued = await jsonOf<Issued>(response);
    expect(issued.token).toMatch(/^enc_/);
    expect(issued.summary.role).toBe("member");
    expect((await write(issued.token, fx.workspaceId)).status).toBe(201);
    const list = await request(workspacePath(fx.workspaceId, "/tokens"), { cookie: fx.adminUser.cookie });
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
    await expectError(await issue({ cookie: fx.memberUser.cookie }, fx.workspaceId, { role: "viewer" }), 403, "insufficient_scope");
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
    const error = await jsonOf(denied);
    expect(error.error).toBe("insufficient_scope");
    expect(error.message).toContain('"knowledge"');
  });
});

describe("a token follows its issuer's current role", () => {
  it("demoting the issuer to viewer takes write access away at once; promoting back restores it", async () => {
    const fx = await setup();
    const { token } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "admin" }));
    expect((await write(token, fx.workspaceId)).status).toBe(201);
    const setRole = (role: string) =>
      request(memberPath(fx.workspaceId, fx.adminUser.user.id), { cookie: fx.ownerCookie, method: "PATCH", body: { role } });
    expect((await setRole("viewer")).status).toBe(200);
    const denied = await write(token, fx.workspaceId);
    expect(denied.status).toBe(403);
    expect((await jsonOf(denied)).error).toBe("insufficient_scope");
    expect((await read(token, fx.workspaceId)).status).toBe(200);
    await expectError(await request(workspacePath(fx.workspaceId, "/tokens"), { token }), 403, "insufficient_scope");
    expect((await setRole("admin")).status).toBe(200);
    expect((await write(token, fx.workspaceId)).status).toBe(201);
  });

  it("removing the issuer from the workspace makes the token unknown (401)", async () => {
    const fx = await setup();
    const { token } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "viewer" }));
    expect((await read(token, fx.workspaceId)).status).toBe(200);
    const removed = await request(memberPath(fx.workspaceId, fx.adminUser.user.id), { cookie: fx.ownerCookie, method: "DELETE" });
    expect(removed.status).toBe(204);
    const refused = await read(token, fx.workspaceId);
    expect(refused.status).toBe(401);
    expect((await jsonOf(refused)).error).toBe("invalid_token");
    // The removed admin's own cookie no longer sees the workspace either.
    await expectError(await request(workspacePath(fx.workspaceId, "/search"), { cookie: fx.adminUser.cookie }), 404, "not_found");
  });
});

describe("revoking", () => {
  it("is immediate, by a user or an admin token, and a second revoke changes nothing", async () => {
    const fx = await setup();
    const first = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "member" }));
    const second = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "member" }));
    const revoke = (auth: { token?: string; cookie?: string }, tokenId: string) =>
      request(tokenPath(fx.workspaceId, tokenId), { ...auth, method: "DELETE" });

    expect((await write(first.token, fx.workspaceId)).status).toBe(201);
    expect((await revoke({ cookie: fx.adminUser.cookie }, first.summary.id)).status).toBe(204);
    await expectError(await write(first.token, fx.workspaceId), 401, "invalid_token");

    expect((await revoke({ token: fx.admin }, second.summary.id)).status).toBe(204);
    await expectError(await read(second.token, fx.workspaceId), 401, "invalid_token");

    const before = await snapshotWorkspace(fx.workspaceId);
    expect((await revoke({ token: fx.admin }, second.summary.id)).status).toBe(204);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    await expectError(await revoke({ token: fx.admin }, "tok_" + "0".repeat(32)), 404, "not_found");
  });

  it("an admin token can revoke itself, and is refused from then on", async () => {
    const fx = await setup();
    const { token, summary } = await jsonOf<Issued>(await issue({ cookie: fx.adminUser.cookie }, fx.workspaceId, { role: "admin" }));
    const response = await request(tokenPath(fx.workspaceId, summary.id), { token, method: "DELETE" });
    expect(response.status).toBe(204);
    await expectError(await read(token, fx.workspaceId), 401, "invalid_token");
  });
});
