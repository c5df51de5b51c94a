import { beforeEach, describe, expect, it } from "vitest";
import { authorizeWithin, workspaceGrant } from "@/lib/access/authorize";
import type { Scope } from "@/lib/access/scopes";
import { createInvitation } from "@/lib/access/invitations";
import { issueTeamToken, revokeTeamToken } from "@/lib/access/tokens";
import type { Endpoint } from "@/lib/api/endpoint";
import { endpointList, endpoints } from "@/lib/api/endpoints";
import { mintSecret } from "@/lib/crypto/secrets";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { putAgentSession } from "@/lib/workspace/agent-sessions";
import { putArtifact } from "@/lib/workspace/artifacts";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { auditHeads, expireTeamToken, liveGrant, refusalRows, snapshotWorkspace, teamTokenId, userInWorkspace, workspaceWithTokens, type AuditRecord } from "./api";
import { isMachinePath } from "@/lib/router/machine-router";
import { machineRoutes } from "@/lib/router/machine-routes";
import { jsonOf, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

// Generous brakes: this file makes hundreds of calls from one "IP" within a minute.
useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "100000" });
beforeEach(() => resetRateLimits());

type OperationId = keyof typeof endpoints;
type Spec = { params?: Record<string, string>; body?: unknown; rawBody?: string; headers?: Record<string, string>; query?: Record<string, string> };

/**
 * Who may call what, written out by hand: what each role's team token and each role's portal
 * cookie gets from each endpoint. A number is the success status; `no` is a 403
 * insufficient_scope naming the endpoint's scope; `mint` is a 403 tokens_cannot_issue_tokens
 * (only people issue tokens). Nothing here is computed from lib/access/scopes.ts, so a wrong
 * entry there fails this table.
 */
const no = "insufficient_scope";
const mint = "tokens_cannot_issue_tokens";
type Cell = 200 | 201 | 204 | typeof no | typeof mint;
type Row = readonly [viewerToken: Cell, memberToken: Cell, adminToken: Cell, viewerCookie: Cell, memberCookie: Cell, adminCookie: Cell];

const matrix: Record<OperationId, Row> = {
  //                      ------- tokens -------   ------- cookies ------
  //                      viewer  member  admin    viewer  member  admin
  listKnowledge:         [200,    200,    200,     200,    200,    200],
  createKnowledge:       [no,     201,    201,     no,     201,    201],
  getKnowledge:          [200,    200,    200,     200,    200,    200],
  updateKnowledge:       [no,     200,    200,     no,     200,    200],
  deleteKnowledge:       [no,     204,    204,     no,     204,    204],
  neighbors:             [200,    200,    200,     200,    200,    200],
  search:                [200,    200,    200,     200,    200,    200],
  listSessions:          [200,    200,    200,     200,    200,    200],
  getSession:            [200,    200,    200,     200,    200,    200],
  putSession:            [no,     200,    200,     no,     200,    200],
  listEvents:            [200,    200,    200,     200,    200,    200],
  publishEvent:          [no,     201,    201,     no,     201,    201],
  streamEvents:          [200,    200,    200,     200,    200,    200],
  listArtifacts:         [200,    200,    200,     200,    200,    200],
  getArtifact:           [200,    200,    200,     200,    200,    200],
  putArtifact:           [no,     200,    200,     no,     200,    200],
  deleteArtifact:        [no,     204,    204,     no,     204,    204],
  createLink:            [no,     201,    201,     no,     201,    201],
  listTokens:            [no,     no,     200,     no,     no,     200],
  issueToken:            [no,     no,     mint,    no,     no,     201],
  revokeToken:           [no,     no,     204,     no,     no,     204],
  listClients:           [no,     no,     200,     no,     no,     200],
  revokeClient:          [no,     no,     204,     no,     no,     204],
  listMembers:           [no,     no,     200,     no,     no,     200],
  addMember:             [no,     no,     201,     no,     no,     201],
  changeMemberRole:      [no,     no,     200,     no,     no,     200],
  removeMember:          [no,     no,     204,     no,     no,     204],
  listInvitations:       [no,     no,     200,     no,     no,     200],
  revokeInvitation:      [no,     no,     204,     no,     no,     204],
  getRedactionSettings:  [no,     no,     200,     no,     no,     200],
  putRedactionSettings:  [no,     no,     200,     no,     no,     200],
  listAudit:             [no,     no,     200,     no,     no,     200],
};

type Fixture = Awaited<ReturnType<typeof makeFixture>>;

async function makeFixture() {
  const ws = await workspaceWithTokens();
  const other = await workspaceWithTokens();
  const ownerGrant = (await workspaceGrant({ kind: "user", userId: ws.owner.id }, ws.workspaceId))!;
  const asOwner = <S extends Scope>(scope: S) => authorizeWithin(ownerGrant, scope);
  const adminToken = () => issueTeamToken(asOwner("tokens"), { name: "spare", role: "admin", expiresInDays: 30 });
  const entry = async (title = "alpha entry") => (await createKnowledge(asOwner("knowledge"), { title, body: "alpha body", tags: ["alpha"] })).entry.id;

  const expired = await adminToken();
  await expireTeamToken(expired.summary.id);
  const revoked = await adminToken();
  await revokeTeamToken(asOwner("tokens"), revoked.summary.id);
  const good = mintSecret("teamToken").secret;
  const badChecksum = good.slice(0, -1) + (good.endsWith("A") ? "B" : "A");

  const entryId = await entry();
  const entry2 = await entry("second entry");
  await putAgentSession(asOwner("sessionmutations"), "existing", { rev: 0, state: { step: 1 } });
  await putArtifact(asOwner("artifacts"), "existing.txt", "text/plain", Buffer.from("hello"));

  return {
    ...ws,
    asOwner,
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

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** A valid request for each endpoint: its path params, body and query; each call makes whatever it consumes afresh. */
const requests: Record<OperationId, (fx: Fixture) => Promise<Spec> | Spec> = {
  listKnowledge: () => ({}),
  createKnowledge: () => ({ body: { title: "New", body: "text", tags: ["t"] } }),
  getKnowledge: (fx) => ({ params: { id: fx.entryId } }),
  updateKnowledge: (fx) => ({ params: { id: fx.entryId }, body: { title: "Renamed" } }),
  deleteKnowledge: async (fx) => ({ params: { id: await fx.newEntry() } }),
  neighbors: (fx) => ({ params: { id: fx.entryId } }),
  search: () => ({ query: { q: "alpha" } }),
  listSessions: () => ({}),
  getSession: () => ({ params: { name: "existing" } }),
  putSession: () => ({ params: { name: unique("session") }, body: { rev: 0, state: { step: 1 } } }),
  listEvents: () => ({ query: { after: "0" } }),
  publishEvent: () => ({ body: { type: "build.done", payload: { ok: true } } }),
  streamEvents: () => ({}),
  listArtifacts: () => ({}),
  getArtifact: () => ({ params: { name: "existing.txt" } }),
  putArtifact: () => ({ params: { name: unique("upload") }, rawBody: "bytes", headers: { "content-type": "text/plain" } }),
  deleteArtifact: async (fx) => {
    const name = unique("doomed");
    await putArtifact(fx.asOwner("artifacts"), name, "text/plain", Buffer.from("bye"));
    return { params: { name } };
  },
  createLink: (fx) => ({ body: { from: fx.entryId, to: fx.entry2, relation: "refs" } }),
  listTokens: () => ({}),
  issueToken: () => ({ body: { name: "ci", role: "viewer", expiresInDays: 7 } }),
  revokeToken: async (fx) => ({ params: { tokenId: (await fx.newAdminToken()).summary.id } }),
  listClients: () => ({}),
  revokeClient: async (fx) => ({ params: { grantId: await liveGrant(fx, "Matrix agent") } }),
  listMembers: () => ({}),
  addMember: async (fx) => ({ body: { email: (await userInWorkspace(fx.workspaceId, null)).user.email, role: "viewer" } }),
  changeMemberRole: async (fx) => ({ params: { userId: (await userInWorkspace(fx.workspaceId, "viewer")).user.id }, body: { role: "member" } }),
  removeMember: async (fx) => ({ params: { userId: (await userInWorkspace(fx.workspaceId, "viewer")).user.id } }),
  listInvitations: () => ({}),
  revokeInvitation: async (fx) => ({ params: { invitationId: (await createInvitation(fx.asOwner("members"), `${unique("invitee")}@example.com`, "viewer")).invitation.id } }),
  getRedactionSettings: () => ({}),
  putRedactionSettings: () => ({ body: { level: "strict", customPatterns: [] } }),
  listAudit: () => ({ query: { action: "knowledge.*", limit: "10" } }),
};

/** The endpoint's URL path: its OpenAPI path under /api/v1, each `{param}` filled in and percent-encoded. */
function pathOf(e: Endpoint, params: Record<string, string>): string {
  return `/api/v1${e.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${e.operationId}: no value for {${name}}`);
    return encodeURIComponent(value);
  })}`;
}

type Expected = { status: number; error?: string };
type Auth = { token?: string; authorization?: string; cookie?: string };
type Caller = { name: string; auth: (fx: Fixture) => Auth; expect: (e: Endpoint) => Expected };

const byMatrix = (column: number) => (e: Endpoint): Expected => {
  const cell = matrix[e.operationId as OperationId][column]!;
  return typeof cell === "number" ? { status: cell } : { status: 403, error: cell };
};
const refused = (status: number, error: string) => (): Expected => ({ status, error });

const callers: Caller[] = [
  { name: "viewer token", auth: (fx) => ({ token: fx.viewer }), expect: byMatrix(0) },
  { name: "member token", auth: (fx) => ({ token: fx.member }), expect: byMatrix(1) },
  { name: "admin token", auth: (fx) => ({ token: fx.admin }), expect: byMatrix(2) },
  { name: "viewer cookie", auth: (fx) => ({ cookie: fx.cookies.viewer }), expect: byMatrix(3) },
  { name: "member cookie", auth: (fx) => ({ cookie: fx.cookies.member }), expect: byMatrix(4) },
  { name: "admin cookie", auth: (fx) => ({ cookie: fx.cookies.admin }), expect: byMatrix(5) },
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

/**
 * What the audit trail must say about one call: a scope refusal is one `access.denied` row in
 * the workspace's chain, naming the operation and the scope; a workspace the caller cannot
 * see, one in control.db's, naming the id; nothing for a success or a 401 (no principal).
 */
function expectedRefusals(fx: Fixture, e: Endpoint, caller: Caller, expected: Expected) {
  const actorType = caller.name.includes("token") ? "token" : "user";
  const scopeRefusal = { actorType, action: "access.denied", target: e.operationId, details: { reason: "insufficient_scope", scope: e.scope, attempted: e.operationId } };
  const notVisible = { actorType, action: "access.denied", target: fx.workspaceId, details: { reason: "not_visible", attempted: e.operationId } };
  return {
    workspace: expected.error === "insufficient_scope" ? [scopeRefusal] : [],
    control: expected.status === 404 ? [notVisible] : [],
  };
}

const refusalsIn = (rows: Awaited<ReturnType<typeof refusalRows>>) => {
  const shape = ({ actorType, action, target, details }: AuditRecord) => ({ actorType, action, target, details });
  return { workspace: rows.workspace.map(shape), control: rows.control.map(shape) };
};

async function callEndpoint(fx: Fixture, e: Endpoint, auth: Auth, spec: Spec, extra: { query?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const aborter = new AbortController();
  const response = await request(pathOf(e, { workspaceId: fx.workspaceId, ...spec.params }), {
    ...auth,
    method: e.method,
    body: spec.body,
    rawBody: spec.rawBody,
    query: { ...spec.query, ...extra.query },
    headers: { ...spec.headers, ...extra.headers },
    signal: aborter.signal,
  });
  // A granted event stream stays open: close it so no subscriber or timer outlives the test.
  if (e.rawResponse === "text/event-stream" && response.status === 200) {
    aborter.abort();
    await response.body?.cancel();
  }
  return response;
}

describe("every endpoint answers every kind of caller exactly as the access matrix says", () => {
  it("the matrix and the request table name exactly the endpoints in lib/api/endpoints.ts", () => {
    const operationIds = endpointList.map((e) => e.operationId).sort();
    expect(Object.keys(matrix).sort()).toEqual(operationIds);
    expect(Object.keys(requests).sort()).toEqual(operationIds);
  });

  it("each endpoint is served by the machine router, on its declared method, and only once", () => {
    for (const e of endpointList) {
      const routes = machineRoutes.filter((r) => r.method === e.method && r.path === `/api/v1${e.path}`);
      expect(routes, e.operationId).toHaveLength(1);
      const names = [...e.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      expect(isMachinePath(pathOf(e, Object.fromEntries(names.map((name) => [name, `${name}-value`])))), e.operationId).toBe(true);
    }
  });

  it.each(endpointList.map((e) => [e.operationId, e] as const))("%s", async (_name, e) => {
    const fx = await makeFixture();
    for (const caller of callers) {
      const expected = caller.expect(e);
      const spec = await requests[e.operationId](fx);
      const before = await snapshotWorkspace(fx.workspaceId);
      const heads = await auditHeads(fx.workspaceId);
      const response = await callEndpoint(fx, e, caller.auth(fx), spec);
      const label = `${e.operationId} as ${caller.name}`;
      expect(response.status, label).toBe(expected.status);
      expect(refusalsIn(await refusalRows(fx.workspaceId, heads)), `${label}: the refusal rows`).toEqual(expectedRefusals(fx, e, caller, expected));
      if (expected.error === undefined) {
        // What comes back is exactly what the OpenAPI document promises: its shape, and no field it does not name.
        if (e.response && response.headers.get("content-type")?.startsWith("application/json")) {
          const answered = await jsonOf(response);
          expect(e.response.parse(answered), `${label}: the response matches its schema`).toEqual(answered);
        }
        continue;
      }
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
      const spec = await requests[e.operationId as OperationId](fx);
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
    const response = await callEndpoint(fx, e, { cookie: fx.cookies.admin }, await requests.createKnowledge(fx), {
      headers: { origin: "", "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).error).toBe("forbidden_origin");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
  });

  it("a bearer token is judged alone: a valid admin cookie beside a viewer token does not lift it", async () => {
    const fx = await makeFixture();
    const e = endpoints.createKnowledge;
    const response = await callEndpoint(fx, e, { token: fx.viewer, cookie: fx.cookies.admin }, await requests.createKnowledge(fx));
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).error).toBe("insufficient_scope");
    const garbage = await callEndpoint(fx, e, { token: "enc_garbage", cookie: fx.cookies.admin }, await requests.createKnowledge(fx));
    expect(garbage.status).toBe(401);
    expect((await jsonOf(garbage)).error).toBe("invalid_token");
  });

  it("?access_token= is a 400 on every endpoint, even with a valid token in it, and changes nothing", async () => {
    const fx = await makeFixture();
    for (const e of endpointList) {
      const spec = await requests[e.operationId](fx);
      const before = await snapshotWorkspace(fx.workspaceId);
      const response = await callEndpoint(fx, e, {}, spec, { query: { access_token: fx.admin } });
      expect(response.status, e.operationId).toBe(400);
      expect((await jsonOf(response)).error, e.operationId).toBe("token_in_query");
      expect(await snapshotWorkspace(fx.workspaceId), e.operationId).toBe(before);
    }
  });

  it("a made-up or malformed workspace id is a 404, like another team's", async () => {
    const fx = await makeFixture();
    // An empty id leaves `/workspaces//knowledge`, which no workspace route serves: the /api catch-all's 404.
    for (const workspaceId of ["ws_" + "0".repeat(32), "../../etc", "WS_X", ""]) {
      for (const auth of [{ token: fx.admin }, { cookie: fx.cookies.admin }]) {
        const response = await request(workspacePath(workspaceId, "/knowledge"), auth);
        expect(response.status, workspaceId).toBe(404);
        expect((await jsonOf(response)).error, workspaceId).toBe("not_found");
      }
    }
  });

  it("an id from the token's own workspace cannot be reached through another workspace's path", async () => {
    const fx = await makeFixture();
    const response = await request(workspacePath(fx.other.workspaceId, `/knowledge/${encodeURIComponent(fx.entryId)}`), { token: fx.admin });
    expect(response.status).toBe(404);
    expect((await jsonOf(response)).error).toBe("not_found");
    const tokenId = await teamTokenId(fx.viewer);
    const revoke = await request(workspacePath(fx.other.workspaceId, `/tokens/${encodeURIComponent(tokenId)}`), { token: fx.other.admin, method: "DELETE" });
    expect(revoke.status).toBe(404);
    expect((await jsonOf(revoke)).error).toBe("not_found");
    expect((await request(workspacePath(fx.workspaceId, "/search"), { token: fx.viewer })).status).toBe(200);
  });
});
