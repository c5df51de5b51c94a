import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { sessions, users } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { issueTeamToken } from "@/lib/access/tokens";
import { endpointList } from "@/lib/api/endpoints";
import { portalEndpointList } from "@/lib/api/portal-endpoints";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sessionCookieForUser, userInWorkspace } from "./api";
import { ORIGIN, request, workspacePath } from "./harness";
import {
  addMembership,
  cancelRequest,
  closeRequest,
  controlAudit,
  DAY_MS,
  listed,
  ownedWorkspace,
  PASSWORD,
  person,
  refusalOf,
  signIn,
  userRow,
  withTotp,
  workspaceAudit,
} from "./lifecycle";
import { mcpRequest, toolCall } from "./mcp-client";
import { authorizeUrl, MCP_URL, pkce, refresh, refusal, registeredClient, tokenCall, type Tokens } from "./oauth-attack-helpers";
import { consent, redirectParams } from "./oauth";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

/**
 * Someone about to close their account, and the world around it:
 *   solo    they own it alone, nobody else in it         → deleted with the account
 *   shared  they own it alone, with a colleague in it   → deleted with the account (transfer first)
 *   joint   they own it with another owner              → stays with that owner
 *   theirs  someone else's, where they are a member     → stays
 * plus a team token they issued (in shared), one the other owner issued (in joint), and an AI
 * client they connected (in theirs), holding live access and refresh tokens.
 */
async function closingWorld() {
  const me = await person();
  const other = await person();
  const solo = await ownedWorkspace(me.user.id, "Solo");
  const shared = await ownedWorkspace(me.user.id, "Shared");
  await addMembership(shared, other.user.id, "member");
  const joint = await ownedWorkspace(other.user.id, "Joint");
  await addMembership(joint, me.user.id, "owner");
  const theirs = await ownedWorkspace(other.user.id, "Theirs");
  await addMembership(theirs, me.user.id, "member");
  const myToken = (await issueTeamToken(await authorize({ kind: "user", userId: me.user.id }, shared, "tokens"), { name: "mine", role: "viewer", expiresInDays: 30 })).token;
  const othersToken = (await issueTeamToken(await authorize({ kind: "user", userId: other.user.id }, joint, "tokens"), { name: "theirs", role: "viewer", expiresInDays: 30 })).token;
  const client = await registeredClient();
  const { verifier, challenge } = pkce();
  const code = (await redirectParams(await consent(authorizeUrl(client.client_id, challenge), me.cookie, { workspaceId: theirs }))).get("code")!;
  const redeemed = await tokenCall(client, { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: client.redirect_uris[0]!, resource: MCP_URL });
  expect(redeemed.status).toBe(200);
  const ai = { client, tokens: (await redeemed.json()) as Tokens };
  return { me, other, solo, shared, joint, theirs, myToken, othersToken, ai };
}

const mcpSearch = (token: string) => mcpRequest(toolCall("search", { query: "x" }), { token });
const knowledge = (workspaceId: string, auth: { cookie?: string; token?: string }) => request(workspacePath(workspaceId, "/knowledge"), auth);

describe("closing an account needs the person, again", () => {
  it("without re-authentication, with a wrong password, or from another site, nothing closes", async () => {
    const { user, cookie } = await person();
    expect((await closeRequest(cookie, {})).status).toBe(400);
    expect(await refusalOf(await closeRequest(cookie, { password: "not my password" }))).toEqual({ status: 401, error: "invalid_credentials" });
    const forged = await request("/api/account/close", { cookie, body: { password: PASSWORD }, headers: { origin: "https://evil.example" } });
    expect(forged.status).toBe(403);
    expect((await closeRequest("", { password: PASSWORD })).status).toBe(401);
    expect((await userRow(user.id))?.closureRequestedAt).toBeNull();
    expect((await request("/api/workspaces", { cookie })).status).toBe(200);
    expect((await controlAudit("account.reauth_failed")).map((row) => row.target)).toEqual([user.id]);
    expect(await controlAudit("account.closure_requested")).toEqual([]);
  });

  it("with MFA on: no code, a wrong code, or the right code with a wrong password close nothing; password and code do", async () => {
    const { user, cookie } = await person();
    const totp = await withTotp(user.id, user.email);
    expect(await refusalOf(await closeRequest(cookie, { password: PASSWORD }))).toEqual({ status: 401, error: "mfa_required" });
    expect(await refusalOf(await closeRequest(cookie, { password: PASSWORD, code: "000000" }))).toEqual({ status: 401, error: "invalid_mfa_code" });
    expect(await refusalOf(await closeRequest(cookie, { password: "wrong password!", code: await totp.nextCode() }))).toEqual({ status: 401, error: "invalid_credentials" });
    expect((await userRow(user.id))?.closureRequestedAt).toBeNull();
    const closed = await closeRequest(cookie, { password: PASSWORD, code: await totp.nextCode() });
    expect(closed.status).toBe(200);
    expect((await userRow(user.id))?.closureRequestedAt).not.toBeNull();
  });
});

describe("closing an account, at once", () => {
  it("ends every session, revokes their tokens and AI clients, deletes the workspaces they alone own", async () => {
    const w = await closingWorld();
    const otherDevice = await signIn(w.me.user.email);
    expect((await knowledge(w.shared, { token: w.myToken })).status).toBe(200);
    expect((await mcpSearch(w.ai.tokens.access_token)).status).toBe(200);
    const started = Date.now();

    const response = await closeRequest(w.me.cookie, { password: PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const summary = (await response.json()) as { purgeAt: number; sessionsEnded: number; tokensRevoked: number; grantsRevoked: number; workspacesDeleted: string[] };
    expect(summary.purgeAt).toBeGreaterThanOrEqual(started + 30 * DAY_MS);
    expect(summary).toMatchObject({ sessionsEnded: 2, tokensRevoked: 1, grantsRevoked: 1 });
    expect(summary.workspacesDeleted.sort()).toEqual([w.shared, w.solo].sort());

    // Signed out everywhere: this session, and the one from before on another device.
    for (const cookie of [w.me.cookie, otherDevice]) expect((await request("/api/workspaces", { cookie })).status).toBe(401);
    const control = await getControlDb();
    expect(await control.db.$count(sessions, eq(sessions.userId, w.me.user.id))).toBe(0);
    // Their token and their AI client: refused, and the client cannot refresh its way back.
    expect((await knowledge(w.shared, { token: w.myToken })).status).toBe(401);
    expect((await mcpSearch(w.ai.tokens.access_token)).status).toBe(401);
    expect(await refusal(await refresh(w.ai.client, w.ai.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    // Someone else's token in a workspace that stays: untouched.
    expect((await knowledge(w.joint, { token: w.othersToken })).status).toBe(200);
    // Workspaces: the ones they alone owned are gone for their colleague; the others stay.
    expect(await listed(w.other.cookie)).toEqual({ live: [w.joint, w.theirs].sort(), deleted: [] });
    expect((await knowledge(w.shared, { cookie: w.other.cookie })).status).toBe(404);

    const [audit] = await controlAudit("account.closure_requested");
    expect(audit).toMatchObject({ actorType: "user", actorId: w.me.user.id, target: w.me.user.id });
    expect(JSON.parse(audit!.details)).toMatchObject({ purgeAt: summary.purgeAt, sessionsEnded: 2, tokensRevoked: 1, grantsRevoked: 1 });
    expect((await controlAudit("workspace.delete")).map((row) => row.target).sort()).toEqual([w.shared, w.solo].sort());
    expect(await workspaceAudit(w.shared, "workspace.delete")).toHaveLength(1);
  });

  it("a closing account's email cannot be signed up for again", async () => {
    const { user, cookie } = await person();
    expect((await closeRequest(cookie, { password: PASSWORD })).status).toBe(200);
    const again = await request("/api/auth/sign-up", { body: { email: user.email, password: "another long password" }, headers: { origin: ORIGIN } });
    expect(await refusalOf(again)).toEqual({ status: 409, error: "email_taken" });
  });
});

describe("during the hold", () => {
  it("signing in works, but the session reaches no portal endpoint, no REST endpoint and no consent: only Cancel closure", async () => {
    const w = await closingWorld();
    expect((await closeRequest(w.me.cookie, { password: PASSWORD })).status).toBe(200);
    const cookie = await signIn(w.me.user.email);

    const fill = (template: string) =>
      template.replace(/\{(\w+)\}/g, (_match, name: string) => (name === "workspaceId" ? w.theirs : name === "userId" ? w.other.user.id : "existing"));
    const refused: string[] = [];
    for (const endpoint of portalEndpointList) {
      if (endpoint.trust !== "user" || endpoint.operationId === "cancelClosure") continue;
      const response = await request(fill(endpoint.path), { cookie, method: endpoint.method, ...(endpoint.method === "GET" ? {} : { body: {} }) });
      expect(await refusalOf(response), `${endpoint.method} ${endpoint.path}`).toEqual({ status: 403, error: "account_closing" });
      refused.push(endpoint.operationId);
    }
    expect(refused).toEqual(expect.arrayContaining(["listWorkspaces", "createWorkspace", "closeAccount", "decideConsent", "restoreWorkspace", "listAccountClients"]));
    for (const endpoint of endpointList) {
      const response = await request(`/api/v1${fill(endpoint.path)}`, { cookie, method: endpoint.method, ...(["GET", "DELETE"].includes(endpoint.method) ? {} : { body: {} }) });
      expect(await refusalOf(response), `${endpoint.method} ${endpoint.path}`).toEqual({ status: 403, error: "account_closing" });
    }
    // A new AI client consent, as the consent page would post it.
    const again = await consent(authorizeUrl(w.ai.client.client_id, pkce().challenge), cookie, { workspaceId: w.theirs });
    expect(await refusalOf(again)).toEqual({ status: 403, error: "account_closing" });
    // Nothing was created meanwhile.
    expect(await controlAudit("oauth.consent")).toHaveLength(1);
    expect(await controlAudit("workspace.create")).toHaveLength(4);
  });

  it("Cancel closure brings back the account and the workspaces deleted with it; revoked tokens and AI clients stay revoked", async () => {
    const w = await closingWorld();
    expect((await closeRequest(w.me.cookie, { password: PASSWORD })).status).toBe(200);
    const cookie = await signIn(w.me.user.email);
    const response = await cancelRequest(cookie);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { workspacesRestored: string[] }).workspacesRestored.sort()).toEqual([w.shared, w.solo].sort());
    // The same session is a whole one again.
    expect(await listed(cookie)).toEqual({ live: [w.joint, w.shared, w.solo, w.theirs].sort(), deleted: [] });
    expect((await knowledge(w.shared, { cookie: w.other.cookie })).status).toBe(200);
    expect((await userRow(w.me.user.id))?.purgeAt).toBeNull();
    // What was revoked stays so: the person issues or connects it again, knowingly.
    expect((await knowledge(w.shared, { token: w.myToken })).status).toBe(401);
    expect((await mcpSearch(w.ai.tokens.access_token)).status).toBe(401);
    expect(await refusal(await refresh(w.ai.client, w.ai.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await controlAudit("account.closure_cancelled")).toHaveLength(1);
    expect((await controlAudit("workspace.restore")).map((row) => row.target).sort()).toEqual([w.shared, w.solo].sort());
    expect(await workspaceAudit(w.solo, "workspace.restore")).toHaveLength(1);
  });

  it("a workspace its owner deleted before closing is not brought back by Cancel closure", async () => {
    const { user, cookie } = await person();
    const deleted = await ownedWorkspace(user.id, "Old");
    const kept = await ownedWorkspace(user.id, "Kept");
    expect((await request(`/api/workspaces/${deleted}`, { cookie, method: "DELETE", body: { confirmName: "Old" } })).status).toBe(200);
    expect((await closeRequest(cookie, { password: PASSWORD })).status).toBe(200);
    expect((await cancelRequest(await signIn(user.email))).status).toBe(200);
    expect(await listed(await sessionCookieForUser(user.id))).toEqual({ live: [kept], deleted: [deleted] });
  });

  it("Cancel closure is refused for an account that is not closing, and once the hold has run out", async () => {
    const { user, cookie } = await person();
    expect(await refusalOf(await cancelRequest(cookie))).toEqual({ status: 409, error: "not_closing" });
    expect((await closeRequest(cookie, { password: PASSWORD })).status).toBe(200);
    const control = await getControlDb();
    await control.db.update(users).set({ purgeAt: Date.now() - 1 }).where(eq(users.id, user.id));
    expect(await refusalOf(await cancelRequest(await signIn(user.email)))).toEqual({ status: 409, error: "closure_final" });
    expect((await userRow(user.id))?.closureRequestedAt).not.toBeNull();
  });

  it("another person's session cannot cancel my closure: it cancels nothing of mine", async () => {
    const me = await person();
    const stranger = await userInWorkspace("", null);
    expect((await closeRequest(me.cookie, { password: PASSWORD })).status).toBe(200);
    expect(await refusalOf(await cancelRequest(stranger.cookie))).toEqual({ status: 409, error: "not_closing" });
    expect((await userRow(me.user.id))?.closureRequestedAt).not.toBeNull();
  });
});
