import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { memberships } from "@/db/control/schema";
import { controlAuditLog, verifyAuditChain } from "@/lib/audit/audit";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { resolveOAuthAccessToken } from "@/lib/access/bearer";
import { jsonOf, sessionCookieForUser, userInWorkspace, workspaceWithTokens } from "./api";
import { CALLBACK_URL, MemoryOAuthProvider } from "./oauth-provider";
import { consent, redirectParams, tokenRequest } from "./oauth";
import { appFetch, ORIGIN, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

const MCP_URL = `${ORIGIN}/mcp`;
const EVIL = "https://evil.example";

type Listed = { grantId: string; clientId: string; clientName: string; userId: string; workspaceId: string; scopes: string[]; redirectUri: string };
type Auth = { token?: string; cookie?: string; headers?: Record<string, string> };

/** A client connected through the real flow: SDK discovery, DCR, consent, code + PKCE redemption. */
async function connect(workspaceId: string, cookie: string, clientName = "Test agent") {
  const provider = new MemoryOAuthProvider({
    client_name: clientName,
    redirect_uris: [CALLBACK_URL],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  });
  expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: appFetch })).toBe("REDIRECT");
  const back = await redirectParams(await consent(provider.authorizationUrl!, cookie, { workspaceId }));
  expect(await auth(provider, { serverUrl: MCP_URL, authorizationCode: back.get("code")!, fetchFn: appFetch })).toBe("AUTHORIZED");
  const tokens = provider.savedTokens!;
  const principal = await resolveOAuthAccessToken(tokens.access_token, MCP_URL);
  if (!principal) throw new Error("fresh access token did not resolve");
  const refresh = () =>
    tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: provider.information!.client_id });
  return { grantId: principal.grantId, clientId: provider.information!.client_id, accessToken: tokens.access_token, refresh };
}

/** Two workspaces: in A an admin and a member have each connected a client; in B the member has too. */
async function setup() {
  const a = await workspaceWithTokens();
  const b = await workspaceWithTokens();
  const admin = await userInWorkspace(a.workspaceId, "admin");
  const member = await userInWorkspace(a.workspaceId, "member");
  const control = await getControlDb();
  await control.db.insert(memberships).values({ workspaceId: b.workspaceId, userId: member.user.id, role: "member", createdAt: Date.now() });
  const adminGrant = await connect(a.workspaceId, admin.cookie, "Admin's agent");
  const memberGrant = await connect(a.workspaceId, member.cookie, "Member's agent");
  const memberGrantInB = await connect(b.workspaceId, member.cookie, "Member's agent in B");
  const bOwnerGrant = await connect(b.workspaceId, await sessionCookieForUser(b.owner.id), "B owner's agent");
  return { a, b, admin, member, adminGrant, memberGrant, memberGrantInB, bOwnerGrant };
}

const listIn = (workspaceId: string, auth: Auth) => request(workspacePath(workspaceId, "/clients"), auth);
const revokeIn = (workspaceId: string, grantId: string, auth: Auth) =>
  request(workspacePath(workspaceId, `/clients/${encodeURIComponent(grantId)}`), { ...auth, method: "DELETE" });
const listMine = (cookie: string) => request("/api/account/clients", { cookie });
const revokeMine = (grantId: string, cookie: string, headers: Record<string, string> = {}) =>
  request(`/api/account/clients/${encodeURIComponent(grantId)}`, { method: "DELETE", cookie, headers });

const stillWorks = async (grant: { accessToken: string }) => expect(await resolveOAuthAccessToken(grant.accessToken, MCP_URL)).not.toBeNull();

async function revokeAudits(grantId: string) {
  const control = await getControlDb();
  return control.db
    .select({ actorType: controlAuditLog.actorType, actorId: controlAuditLog.actorId, details: controlAuditLog.details })
    .from(controlAuditLog)
    .where(and(eq(controlAuditLog.action, "oauth.grant_revoke"), eq(controlAuditLog.target, grantId)));
}

describe("workspace admins: /api/v1/workspaces/{id}/clients", () => {
  it("lists every person's connected clients in the workspace, and only those, with the documented fields", async () => {
    const fx = await setup();
    for (const auth of [{ cookie: fx.admin.cookie }, { token: fx.a.admin }]) {
      const response = await listIn(fx.a.workspaceId, auth);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const { items } = await jsonOf<{ items: Listed[] }>(response);
      expect(items.map((item) => item.grantId).sort()).toEqual([fx.adminGrant.grantId, fx.memberGrant.grantId].sort());
      const memberItem = items.find((item) => item.grantId === fx.memberGrant.grantId)!;
      expect(memberItem).toMatchObject({
        clientId: fx.memberGrant.clientId,
        clientName: "Member's agent",
        userId: fx.member.user.id,
        workspaceId: fx.a.workspaceId,
        redirectUri: CALLBACK_URL,
      });
      expect(memberItem.scopes).toContain("knowledge");
      // Nothing beyond the schema: no hashes, no emails, no revocation internals.
      expect(Object.keys(memberItem).sort()).toEqual(
        ["clientId", "clientName", "createdAt", "grantId", "lastUsedAt", "redirectUri", "scopes", "userId", "workspaceId"].sort(),
      );
    }
  });

  it("refuses people and tokens without the clients scope (403), and outsiders see no workspace (404)", async () => {
    const fx = await setup();
    const viewer = await userInWorkspace(fx.a.workspaceId, "viewer");
    for (const auth of [{ cookie: fx.member.cookie }, { cookie: viewer.cookie }, { token: fx.a.member }, { token: fx.a.viewer }]) {
      const listed = await listIn(fx.a.workspaceId, auth);
      expect(listed.status).toBe(403);
      expect((await jsonOf(listed)).error).toBe("insufficient_scope");
      expect((await revokeIn(fx.a.workspaceId, fx.adminGrant.grantId, auth)).status).toBe(403);
    }
    const outsider = await userInWorkspace(fx.a.workspaceId, null);
    expect((await listIn(fx.a.workspaceId, { cookie: outsider.cookie })).status).toBe(404);
    expect((await listIn(fx.a.workspaceId, { token: fx.b.admin })).status).toBe(404);
    expect((await listIn(fx.a.workspaceId, {})).status).toBe(401);
    await stillWorks(fx.adminGrant);
  });

  it("revokes a member's client: its access token dies at once, refresh fails, the revoke is audited", async () => {
    const fx = await setup();
    const response = await revokeIn(fx.a.workspaceId, fx.memberGrant.grantId, { cookie: fx.admin.cookie });
    expect(response.status).toBe(204);
    expect(await resolveOAuthAccessToken(fx.memberGrant.accessToken, MCP_URL)).toBeNull();
    const refreshed = await fx.memberGrant.refresh();
    expect(refreshed.status).toBe(400);
    expect((await jsonOf(refreshed)).error).toBe("invalid_grant");
    const { items } = await jsonOf<{ items: Listed[] }>(await listIn(fx.a.workspaceId, { cookie: fx.admin.cookie }));
    expect(items.map((item) => item.grantId)).toEqual([fx.adminGrant.grantId]);

    const audits = await revokeAudits(fx.memberGrant.grantId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: "user", actorId: fx.admin.user.id });
    expect(JSON.parse(audits[0]!.details)).toMatchObject({ workspaceId: fx.a.workspaceId, clientName: "Member's agent" });
    const control = await getControlDb();
    expect((await verifyAuditChain(control.db, controlAuditLog)).ok).toBe(true);

    // A second revoke changes nothing and writes no second row.
    expect((await revokeIn(fx.a.workspaceId, fx.memberGrant.grantId, { cookie: fx.admin.cookie })).status).toBe(204);
    expect(await revokeAudits(fx.memberGrant.grantId)).toHaveLength(1);
    await stillWorks(fx.adminGrant);
  });

  it("an admin team token revokes too, audited as the token", async () => {
    const fx = await setup();
    expect((await revokeIn(fx.a.workspaceId, fx.adminGrant.grantId, { token: fx.a.admin })).status).toBe(204);
    expect(await resolveOAuthAccessToken(fx.adminGrant.accessToken, MCP_URL)).toBeNull();
    expect((await revokeAudits(fx.adminGrant.grantId))[0]).toMatchObject({ actorType: "token" });
  });

  it("an admin of workspace A cannot revoke a grant in workspace B (404), by either workspace id", async () => {
    const fx = await setup();
    for (const auth of [{ cookie: fx.admin.cookie }, { token: fx.a.admin }]) {
      const viaA = await revokeIn(fx.a.workspaceId, fx.bOwnerGrant.grantId, auth);
      expect(viaA.status).toBe(404);
      expect((await jsonOf(viaA)).error).toBe("not_found");
      expect((await revokeIn(fx.b.workspaceId, fx.bOwnerGrant.grantId, auth)).status).toBe(404);
      expect((await revokeIn(fx.a.workspaceId, "grt_doesnotexist", auth)).status).toBe(404);
    }
    await stillWorks(fx.bOwnerGrant);
    await stillWorks(fx.memberGrantInB);
    expect(await revokeAudits(fx.bOwnerGrant.grantId)).toEqual([]);
  });

  it("a cookie DELETE from another origin is refused (403) and changes nothing", async () => {
    const fx = await setup();
    const crossOrigin = await revokeIn(fx.a.workspaceId, fx.memberGrant.grantId, { cookie: fx.admin.cookie, headers: { origin: EVIL } });
    expect(crossOrigin.status).toBe(403);
    expect((await jsonOf(crossOrigin)).error).toBe("forbidden_origin");
    await stillWorks(fx.memberGrant);
    expect(await revokeAudits(fx.memberGrant.grantId)).toEqual([]);
  });
});

describe("a person's own clients: /api/account/clients", () => {
  it("lists only the signed-in person's grants, across their workspaces", async () => {
    const fx = await setup();
    const response = await listMine(fx.member.cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { items } = await jsonOf<{ items: (Listed & { workspaceName: string })[] }>(response);
    expect(items.map((item) => item.grantId).sort()).toEqual([fx.memberGrant.grantId, fx.memberGrantInB.grantId].sort());
    expect(items.find((item) => item.grantId === fx.memberGrantInB.grantId)).toMatchObject({ workspaceId: fx.b.workspaceId, workspaceName: "Team" });
    for (const item of items) expect(item).not.toHaveProperty("userId");

    const { items: adminItems } = await jsonOf<{ items: Listed[] }>(await listMine(fx.admin.cookie));
    expect(adminItems.map((item) => item.grantId)).toEqual([fx.adminGrant.grantId]);
    expect((await request("/api/account/clients")).status).toBe(401);
  });

  it("revokes their own grant: the access token resolves to null right after and refresh fails", async () => {
    const fx = await setup();
    const response = await revokeMine(fx.memberGrant.grantId, fx.member.cookie);
    expect(response.status).toBe(204);
    expect(await resolveOAuthAccessToken(fx.memberGrant.accessToken, MCP_URL)).toBeNull();
    const refreshed = await fx.memberGrant.refresh();
    expect(refreshed.status).toBe(400);
    expect((await jsonOf(refreshed)).error).toBe("invalid_grant");

    const { items } = await jsonOf<{ items: Listed[] }>(await listMine(fx.member.cookie));
    expect(items.map((item) => item.grantId)).toEqual([fx.memberGrantInB.grantId]);
    const audits = await revokeAudits(fx.memberGrant.grantId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: "user", actorId: fx.member.user.id });
    await stillWorks(fx.memberGrantInB);
    await stillWorks(fx.adminGrant);
  });

  it("cannot revoke someone else's grant, even in a shared workspace (404), and that grant keeps working", async () => {
    const fx = await setup();
    for (const grant of [fx.adminGrant, fx.bOwnerGrant]) {
      const response = await revokeMine(grant.grantId, fx.member.cookie);
      expect(response.status).toBe(404);
      expect((await jsonOf(response)).error).toBe("not_found");
      await stillWorks(grant);
      expect((await grant.refresh()).status).toBe(200);
      expect(await revokeAudits(grant.grantId)).toEqual([]);
    }
    expect((await revokeMine("grt_doesnotexist", fx.member.cookie)).status).toBe(404);
  });

  it("refuses a cross-origin DELETE carrying the cookie (403), and one with no session (401)", async () => {
    const fx = await setup();
    const crossOrigin = await revokeMine(fx.memberGrant.grantId, fx.member.cookie, { origin: EVIL });
    expect(crossOrigin.status).toBe(403);
    expect((await jsonOf(crossOrigin)).error).toBe("forbidden_origin");
    const crossSite = await revokeMine(fx.memberGrant.grantId, fx.member.cookie, { origin: "", "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    expect((await request(`/api/account/clients/${fx.memberGrant.grantId}`, { method: "DELETE" })).status).toBe(401);
    await stillWorks(fx.memberGrant);
    expect(await revokeAudits(fx.memberGrant.grantId)).toEqual([]);
  });

  it("answers other methods with the JSON 405", async () => {
    const response = await request("/api/account/clients", { body: {} });
    expect(response.status).toBe(405);
    expect((await jsonOf(response)).error).toBe("method_not_allowed");
  });
});
