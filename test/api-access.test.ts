import { beforeEach, describe, expect, it } from "vitest";
import * as clientItem from "@/app/api/v1/workspaces/[workspaceId]/clients/[grantId]/route";
import * as clientList from "@/app/api/v1/workspaces/[workspaceId]/clients/route";
import * as artifactItem from "@/app/api/v1/workspaces/[workspaceId]/artifacts/[name]/route";
import * as artifactList from "@/app/api/v1/workspaces/[workspaceId]/artifacts/route";
import * as eventStream from "@/app/api/v1/workspaces/[workspaceId]/events/stream/route";
import * as eventList from "@/app/api/v1/workspaces/[workspaceId]/events/route";
import * as knowledgeNeighbors from "@/app/api/v1/workspaces/[workspaceId]/knowledge/[id]/neighbors/route";
import * as knowledgeItem from "@/app/api/v1/workspaces/[workspaceId]/knowledge/[id]/route";
import * as knowledgeList from "@/app/api/v1/workspaces/[workspaceId]/knowledge/route";
import * as links from "@/app/api/v1/workspaces/[workspaceId]/links/route";
import * as memberItem from "@/app/api/v1/workspaces/[workspaceId]/members/[userId]/route";
import * as memberList from "@/app/api/v1/workspaces/[workspaceId]/members/route";
import * as search from "@/app/api/v1/workspaces/[workspaceId]/search/route";
import * as sessionItem from "@/app/api/v1/workspaces/[workspaceId]/sessions/[name]/route";
import * as sessionList from "@/app/api/v1/workspaces/[workspaceId]/sessions/route";
import * as redactionSettings from "@/app/api/v1/workspaces/[workspaceId]/settings/redaction/route";
import * as tokenItem from "@/app/api/v1/workspaces/[workspaceId]/tokens/[tokenId]/route";
import * as tokenList from "@/app/api/v1/workspaces/[workspaceId]/tokens/route";
import { oauthGrants } from "@/db/control/schema";
import { accessTo, type WorkspaceAccess } from "@/lib/access/authorize";
import { roleScopes, type Scope } from "@/lib/access/scopes";
import { issueTeamToken, mintTeamTokenSecret, revokeTeamToken } from "@/lib/access/tokens";
import type { Endpoint } from "@/lib/api/endpoint";
import { endpointList, endpoints } from "@/lib/api/endpoints";
import { randomId } from "@/lib/crypto/tokens";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { putAgentSession } from "@/lib/workspace/agent-sessions";
import { putArtifact } from "@/lib/workspace/artifacts";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { callApiAs, expireTeamToken, jsonOf, snapshotWorkspace, teamTokenId, userInWorkspace, workspaceWithTokens } from "./api";
import { useTempStore } from "./store";

// Generous brakes: this file makes hundreds of calls from one "IP" within a minute.
useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "100000" });
beforeEach(() => resetRateLimits());

type OperationId = keyof typeof endpoints;
type Handler = (request: Request, context?: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;
type RouteModule = Partial<Record<Endpoint["method"], Handler>>;
type Spec = { params?: Record<string, string>; body?: unknown; rawBody?: string; headers?: Record<string, string>; query?: Record<string, string> };

type Fixture = Awaited<ReturnType<typeof makeFixture>>;

async function makeFixture() {
  const ws = await workspaceWithTokens();
  const other = await workspaceWithTokens();
  const ownerAccess = (await accessTo({ kind: "user", userId: ws.owner.id }, ws.workspaceId)) as WorkspaceAccess;
  const asOwner = { type: "user" as const, userId: ws.owner.id, role: "owner" as const };
  const adminToken = () => issueTeamToken(ws.workspaceId, { name: "spare", role: "admin", expiresInDays: 30 }, asOwner);
  const entry = async (title = "alpha entry") => (await createKnowledge(ownerAccess, { title, body: "alpha body", tags: ["alpha"] })).entry.id;

  const expired = await adminToken();
  await expireTeamToken(expired.summary.id);
  const revoked = await adminToken();
  await revokeTeamToken(ws.workspaceId, revoked.summary.id, ownerAccess.actor);
  const good = mintTeamTokenSecret();
  const badChecksum = good.slice(0, -1) + (good.endsWith("A") ? "B" : "A");

  const entryId = await entry();
  const entry2 = await entry("second entry");
  await putAgentSession(ownerAccess, "existing", { rev: 0, state: { step: 1 } });
  await putArtifact(ownerAccess, "existing.txt", "text/plain", Buffer.from("hello"));

  return {
    ...ws,
    ownerAccess,
    other,
    expired: expired.token,
    revoked: revoked.token,
    badChecksum,
    entryId,
    entry2,
    newEntry: entry,
    newAdminToken: adminToken,
    cookies: {
      viewer: (await userInWorkspace(ws.workspaceId, "viewer")).cookie,
      member: (await userInWorkspace(ws.workspaceId, "member")).cookie,
      admin: (await userInWorkspace(ws.workspaceId, "admin")).cookie,
      stranger: (await userInWorkspace(other.workspaceId, "owner")).cookie,
    },
  };
}

/** A live OAuth grant in the workspace, as the token endpoint leaves one (test/connected-clients.test.ts runs the real flow). */
async function newGrant(fx: Fixture): Promise<string> {
  const id = randomId("grt");
  const control = await getControlDb();
  await control.db.insert(oauthGrants).values({
    id,
    clientId: "cli_access_matrix",
    clientName: "Matrix agent",
    userId: fx.owner.id,
    workspaceId: fx.workspaceId,
    scopes: JSON.stringify(["search"]),
    resource: "http://localhost:3000/mcp",
    redirectUri: "http://127.0.0.1:43117/callback",
    createdAt: Date.now(),
  });
  return id;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** Each endpoint's route module and a valid request for it; `prepare` makes whatever the call consumes afresh. */
const routes: Record<OperationId, { module: RouteModule; prepare: (fx: Fixture) => Promise<Spec> | Spec }> = {
  listKnowledge: { module: knowledgeList, prepare: () => ({}) },
  createKnowledge: { module: knowledgeList, prepare: () => ({ body: { title: "New", body: "text", tags: ["t"] } }) },
  getKnowledge: { module: knowledgeItem, prepare: (fx) => ({ params: { id: fx.entryId } }) },
  updateKnowledge: { module: knowledgeItem, prepare: (fx) => ({ params: { id: fx.entryId }, body: { title: "Renamed" } }) },
  deleteKnowledge: { module: knowledgeItem, prepare: async (fx) => ({ params: { id: await fx.newEntry() } }) },
  neighbors: { module: knowledgeNeighbors, prepare: (fx) => ({ params: { id: fx.entryId } }) },
  search: { module: search, prepare: () => ({ query: { q: "alpha" } }) },
  listSessions: { module: sessionList, prepare: () => ({}) },
  getSession: { module: sessionItem, prepare: () => ({ params: { name: "existing" } }) },
  putSession: { module: sessionItem, prepare: () => ({ params: { name: unique("session") }, body: { rev: 0, state: { step: 1 } } }) },
  listEvents: { module: eventList, prepare: () => ({ query: { after: "0" } }) },
  publishEvent: { module: eventList, prepare: () => ({ body: { type: "build.done", payload: { ok: true } } }) },
  streamEvents: { module: eventStream, prepare: () => ({}) },
  listArtifacts: { module: artifactList, prepare: () => ({}) },
  getArtifact: { module: artifactItem, prepare: () => ({ params: { name: "existing.txt" } }) },
  putArtifact: { module: artifactItem, prepare: () => ({ params: { name: unique("upload") }, rawBody: "bytes", headers: { "content-type": "text/plain" } }) },
  deleteArtifact: {
    module: artifactItem,
    prepare: async (fx) => {
      const name = unique("doomed");
      await putArtifact(fx.ownerAccess, name, "text/plain", Buffer.from("bye"));
      return { params: { name } };
    },
  },
  createLink: { module: links, prepare: (fx) => ({ body: { from: fx.entryId, to: fx.entry2, relation: "refs" } }) },
  listTokens: { module: tokenList, prepare: () => ({}) },
  issueToken: { module: tokenList, prepare: () => ({ body: { name: "ci", role: "viewer", expiresInDays: 7 } }) },
  revokeToken: { module: tokenItem, prepare: async (fx) => ({ params: { tokenId: (await fx.newAdminToken()).summary.id } }) },
  listClients: { module: clientList, prepare: () => ({}) },
  revokeClient: { module: clientItem, prepare: async (fx) => ({ params: { grantId: await newGrant(fx) } }) },
  listMembers: { module: memberList, prepare: () => ({}) },
  addMember: {
    module: memberList,
    prepare: async (fx) => ({ body: { email: (await userInWorkspace(fx.workspaceId, null)).user.email, role: "viewer" } }),
  },
  changeMemberRole: {
    module: memberItem,
    prepare: async (fx) => ({ params: { userId: (await userInWorkspace(fx.workspaceId, "viewer")).user.id }, body: { role: "member" } }),
  },
  removeMember: { module: memberItem, prepare: async (fx) => ({ params: { userId: (await userInWorkspace(fx.workspaceId, "viewer")).user.id } }) },
  getRedactionSettings: { module: redactionSettings, prepare: () => ({}) },
  putRedactionSettings: { module: redactionSettings, prepare: () => ({ body: { level: "strict", customPatterns: [] } }) },
};

type Expected = { status: number; error?: string };
type Caller = { name: string; auth: (fx: Fixture) => { token?: string; authorization?: string; cookie?: string }; expect: (e: Endpoint) => Expected };

const success = (e: Endpoint): Expected => ({ status: e.status ?? 200 });
const byScopes = (scopes: readonly Scope[], kind: "token" | "user") => (e: Endpoint): Expected => {
  if (!scopes.includes(e.scope)) return { status: 403, error: "insufficient_scope" };
  // Only people issue tokens: a token with the `tokens` scope may list and revoke, never mint.
  if (e.operationId === "issueToken" && kind === "token") return { status: 403, error: "tokens_cannot_issue_tokens" };
  return success(e);
};
const refused = (status: number, error: string) => (): Expected => ({ status, error });

const callers: Caller[] = [
  { name: "viewer token", auth: (fx) => ({ token: fx.viewer }), expect: byScopes(roleScopes.viewer, "token") },
  { name: "member token", auth: (fx) => ({ token: fx.member }), expect: byScopes(roleScopes.member, "token") },
  { name: "admin token", auth: (fx) => ({ token: fx.admin }), expect: byScopes(roleScopes.admin, "token") },
  { name: "viewer cookie", auth: (fx) => ({ cookie: fx.cookies.viewer }), expect: byScopes(roleScopes.viewer, "user") },
  { name: "member cookie", auth: (fx) => ({ cookie: fx.cookies.member }), expect: byScopes(roleScopes.member, "user") },
  { name: "admin cookie", auth: (fx) => ({ cookie: fx.cookies.admin }), expect: byScopes(roleScopes.admin, "user") },
  { name: "another workspace's admin token", auth: (fx) => ({ token: fx.other.admin }), expect: refused(404, "not_found") },
  { name: "a non-member's cookie", auth: (fx) => ({ cookie: fx.cookies.stranger }), expect: refused(404, "not_found") },
  { name: "expired token", auth: (fx) => ({ token: fx.expired }), expect: refused(401, "invalid_token") },
  { name: "revoked token", auth: (fx) => ({ token: fx.revoked }), expect: refused(401, "invalid_token") },
  { name: "enc_garbage", auth: () => ({ token: "enc_garbage" }), expect: refused(401, "invalid_token") },
  { name: "a bad checksum", auth: (fx) => ({ token: fx.badChecksum }), expect: refused(401, "invalid_token") },
  { name: "Bearer without a token", auth: () => ({ authorization: "Bearer " }), expect: refused(401, "invalid_token") },
  { name: "Basic credentials", auth: () => ({ authorization: "Basic abc" }), expect: refused(401, "invalid_token") },
  { name: "nobody", auth: () => ({}), expect: refused(401, "unauthenticated") },
];

async function callEndpoint(fx: Fixture, e: Endpoint, auth: ReturnType<Caller["auth"]>, spec: Spec, extra: { query?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const handler = routes[e.operationId as OperationId].module[e.method];
  if (!handler) throw new Error(`${e.operationId}: the route module has no ${e.method}`);
  const aborter = new AbortController();
  const response = await callApiAs(handler, {
    ...auth,
    method: e.method,
    params: { workspaceId: fx.workspaceId, ...spec.params },
    body: spec.body,
    rawBody: spec.rawBody,
    query: { ...spec.query, ...extra.query },
    headers: { ...spec.headers, ...extra.headers },
    signal: aborter.signal,
  });
  // A granted event stream stays open: close it so no subscriber or timer outlives the test.
  if (e.rawResponse === "text/event-stream" && response.ok) {
    aborter.abort();
    await response.body?.cancel();
  }
  return response;
}

describe("every endpoint answers every kind of caller exactly as the roles table says", () => {
  it("the table covers every endpoint, each on its declared method", () => {
    expect(Object.keys(routes).sort()).toEqual(endpointList.map((e) => e.operationId).sort());
    for (const e of endpointList) expect(routes[e.operationId].module[e.method], e.operationId).toBeTypeOf("function");
  });

  it.each(endpointList.map((e) => [e.operationId, e] as const))("%s", async (_name, e) => {
    const fx = await makeFixture();
    for (const caller of callers) {
      const expected = caller.expect(e);
      const spec = await routes[e.operationId].prepare(fx);
      const before = await snapshotWorkspace(fx.workspaceId);
      const response = await callEndpoint(fx, e, caller.auth(fx), spec);
      const label = `${e.operationId} as ${caller.name}`;
      expect(response.status, label).toBe(expected.status);
      if (expected.status < 300) continue;
      const body = await jsonOf(response);
      expect(body.error, label).toBe(expected.error);
      expect(body.requestId, label).toEqual(expect.any(String));
      if (expected.error === "insufficient_scope") {
        expect(body.message, label).toContain(`"${e.scope}"`);
        expect(response.headers.get("www-authenticate"), label).toContain(`scope="${e.scope}"`);
      }
      if (expected.status === 401) expect(response.headers.get("www-authenticate"), label).toMatch(/^Bearer/);
      expect(await snapshotWorkspace(fx.workspaceId), `${label} changed something`).toBe(before);
    }
  });
});

describe("refusals that do not depend on the role", () => {
  const writes = endpointList.filter((e) => e.method !== "GET");

  it("a cookie call that changes state from a foreign Origin is a 403 and changes nothing", async () => {
    const fx = await makeFixture();
    for (const e of writes) {
      const spec = await routes[e.operationId as OperationId].prepare(fx);
      const before = await snapshotWorkspace(fx.workspaceId);
      const response = await callEndpoint(fx, e, { cookie: fx.cookies.admin }, spec, { headers: { origin: "https://evil.example" } });
      expect(response.status, e.operationId).toBe(403);
      expect((await jsonOf(response)).error, e.operationId).toBe("forbidden_origin");
      expect(await snapshotWorkspace(fx.workspaceId), e.operationId).toBe(before);
    }
  });

  it("a cookie call from a cross-site page without Origin is refused too", async () => {
    const fx = await makeFixture();
    const e = endpoints.createKnowledge;
    const before = await snapshotWorkspace(fx.workspaceId);
    const response = await callEndpoint(fx, e, { cookie: fx.cookies.admin }, await routes.createKnowledge.prepare(fx), {
      headers: { origin: "", "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("a bearer token is judged alone: a valid admin cookie beside a viewer token does not lift it", async () => {
    const fx = await makeFixture();
    const e = endpoints.createKnowledge;
    const response = await callEndpoint(fx, e, { token: fx.viewer, cookie: fx.cookies.admin }, await routes.createKnowledge.prepare(fx));
    expect(response.status).toBe(403);
    const garbage = await callEndpoint(fx, e, { token: "enc_garbage", cookie: fx.cookies.admin }, await routes.createKnowledge.prepare(fx));
    expect(garbage.status).toBe(401);
  });

  it("?access_token= is a 400 on every endpoint, even with a valid token in it, and changes nothing", async () => {
    const fx = await makeFixture();
    for (const e of endpointList) {
      const spec = await routes[e.operationId].prepare(fx);
      const before = await snapshotWorkspace(fx.workspaceId);
      const response = await callEndpoint(fx, e, {}, spec, { query: { access_token: fx.admin } });
      expect(response.status, e.operationId).toBe(400);
      expect((await jsonOf(response)).error, e.operationId).toBe("token_in_query");
      expect(await snapshotWorkspace(fx.workspaceId), e.operationId).toBe(before);
    }
  });

  it("a made-up or malformed workspace id is a 404, like another team's", async () => {
    const fx = await makeFixture();
    for (const workspaceId of ["ws_" + "0".repeat(32), "../../etc", "WS_X", ""]) {
      for (const auth of [{ token: fx.admin }, { cookie: fx.cookies.admin }]) {
        const response = await callApiAs(knowledgeList.GET, { ...auth, params: { workspaceId } });
        expect(response.status, workspaceId).toBe(404);
      }
    }
  });

  it("an id from the token's own workspace cannot be reached through another workspace's path", async () => {
    const fx = await makeFixture();
    const response = await callApiAs(knowledgeItem.GET, { token: fx.admin, params: { workspaceId: fx.other.workspaceId, id: fx.entryId } });
    expect(response.status).toBe(404);
    const revoke = await callApiAs(tokenItem.DELETE, {
      token: fx.other.admin,
      method: "DELETE",
      params: { workspaceId: fx.other.workspaceId, tokenId: await teamTokenId(fx.viewer) },
    });
    expect(revoke.status).toBe(404);
    expect((await callApiAs(search.GET, { token: fx.viewer, params: { workspaceId: fx.workspaceId } })).status).toBe(200);
  });
});
