import fs from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { desc, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { accessRequests, auditLog, backupDrills, jobRuns, operatorTokens } from "@/db/control/schema";
import { issueOperatorToken, revokeOperatorToken } from "@/lib/access/operator-token";
import { operatorEndpointList } from "@/lib/api/operator-endpoints";
import type { AuditVerifyReport } from "@/lib/operator/audit-verify";
import type { OperatorStatus } from "@/lib/operator/status";
import type { OperatorWorkspacePage } from "@/lib/operator/workspaces";
import { setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { isLoopback } from "@/lib/http/client-address";
import { sessionCookieForUser, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath, type RequestOptions } from "./harness";
import { mcpRequest, rpc } from "./mcp-client";
import { connected } from "./oauth-attack-helpers";
import { testConfig, useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

const CLI = { type: "system" as const, id: "cli" };

/** One valid request per endpoint, with what it needs made afresh. */
async function validCalls(): Promise<{ label: string; path: string; method: string }[]> {
  const { user } = await userInWorkspace("", null);
  const control = await getControlDb();
  const requestIds = await Promise.all(
    operatorEndpointList.map(async () => {
      const id = `acr_${Math.random().toString(16).slice(2)}`;
      await control.db.insert(accessRequests).values({ id, email: `${id}@example.com`, createdAt: Date.now() });
      return id;
    }),
  );
  return operatorEndpointList.map((endpoint, index) => ({
    label: endpoint.operationId,
    method: endpoint.method,
    path: endpoint.path.replace("{userId}", user.id).replace("{job}", "expired-sessions").replace("{requestId}", requestIds[index]!),
  }));
}

const call = (target: { path: string; method: string }, options: RequestOptions = {}) => request(target.path, { method: target.method, ...options });

async function expectRefused(response: Response, status: number, label: string): Promise<void> {
  expect(response.status, label).toBe(status);
  const body = await jsonOf(response);
  expect(Object.keys(body).filter((key) => key !== "fieldErrors").sort(), label).toEqual(["error", "message", "requestId"]);
  expect(response.headers.get("cache-control"), label).toBe("no-store");
}

/** A token one character off, checksum fixed up or not: both are refused. */
function oneOff(token: string): string {
  const at = 10;
  return token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
}

async function controlRows(action: string) {
  const { db } = await getControlDb();
  return db.select().from(auditLog).where(eq(auditLog.action, action)).orderBy(desc(auditLog.seq));
}

describe("the operator token", () => {
  it("is stored only as its SHA-256, and minting a new one revokes the one before", async () => {
    const first = await issueOperatorToken(CLI);
    expect(first.token).toMatch(/^enc_op_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
    const second = await issueOperatorToken(CLI);
    expect(second.revoked).toBe(1);
    const { db } = await getControlDb();
    const rows = await db.select().from(operatorTokens);
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(first.token);
    expect(rows.filter((row) => row.revokedAt === null).map((row) => row.id)).toEqual([second.id]);
    const status = { path: "/api/operator/status", method: "GET" };
    expect((await call(status, { token: second.token })).status).toBe(200);
    await expectRefused(await call(status, { token: first.token }), 401, "the replaced token");
    expect((await controlRows("operator.token_issue")).map((row) => row.actorId)).toEqual(["cli", "cli"]);
  });
});

describe("/api/operator refuses every credential but the live operator token", () => {
  it("no token, an admin's session, team tokens, an OAuth access token, a revoked or one-off operator token: 401, in one shape that names no other kind", async () => {
    const ws = await workspaceWithTokens();
    const admin = await userInWorkspace(ws.workspaceId, "admin");
    const oauth = await connected({ role: "admin" });
    const { token } = await issueOperatorToken(CLI);
    const { token: revoked } = await issueOperatorToken(CLI);
    await revokeOperatorToken(CLI);
    const { token: live } = await issueOperatorToken(CLI);
    expect(revoked).not.toBe(live);
    const wrong: [string, RequestOptions][] = [
      ["no credentials", {}],
      ["an admin's session cookie", { cookie: admin.cookie }],
      ["the owner's session cookie", { cookie: await sessionCookieForUser(ws.owner.id) }],
      ["an admin team token", { token: ws.admin }],
      ["a viewer team token", { token: ws.viewer }],
      ["an OAuth access token", { token: oauth.tokens.access_token }],
      ["a revoked operator token", { token: revoked }],
      ["a replaced operator token", { token }],
      ["the live token one character off", { token: oneOff(live) }],
      ["the live token with its last character changed", { token: live.slice(0, -1) + (live.endsWith("A") ? "B" : "A") }],
      ["the live token's SHA-256", { token: (await (await getControlDb()).db.select().from(operatorTokens)).at(-1)!.tokenHash }],
      ["a malformed header", { authorization: `Token ${live}` }],
      ["the live token in a Basic header", { authorization: `Basic ${Buffer.from(`op:${live}`).toString("base64")}` }],
    ];
    for (const target of await validCalls()) {
      const messages = new Set<string>();
      for (const [label, options] of wrong) {
        resetRateLimits();
        const response = await call(target, options);
        expect(response.status, `${target.label}: ${label}`).toBe(401);
        const body = await jsonOf<{ error: string; message: string }>(response);
        expect(body.error, `${target.label}: ${label}`).toBe("unauthenticated");
        messages.add(body.message);
      }
      // The same words for every wrong credential: nothing tells a caller what else would be accepted.
      expect([...messages]).toHaveLength(1);
      expect([...messages][0]).not.toMatch(/team|oauth|session|cookie|revoked/i);
      resetRateLimits();
      expect((await call(target, { token: live })).status, `${target.label}: the live token`).toBe(200);
    }
  });

  it("the token in the query string is refused, and never reaches a lookup", async () => {
    const { token } = await issueOperatorToken(CLI);
    const response = await request("/api/operator/status", { query: { access_token: token } });
    expect(response.status).toBe(400);
  });

  it("refused credentials are audited as operator.auth_failed, never with the value presented, and within a budget", async () => {
    const { token } = await issueOperatorToken(CLI);
    const guess = oneOff(token);
    for (let i = 0; i < 8; i += 1) {
      resetRateLimits();
      expect((await request("/api/operator/status", { token: guess })).status).toBe(401);
    }
    const rows = await controlRows("operator.auth_failed");
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({ actorType: "anonymous", target: null, ip: "127.0.0.1" });
    expect(JSON.parse(rows[0]!.details)).toEqual({ problem: "invalid" });
    const text = JSON.stringify(await (await getControlDb()).db.select().from(auditLog));
    expect(text).not.toContain(guess);
    expect(text).not.toContain(token);
  });

  it("a flood of refused calls grows the chain by the audit budget only (60 a minute), from however many addresses", async () => {
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_OPERATOR_LOOPBACK_ONLY: "false" }));
    for (let i = 0; i < 90; i += 1) expect((await request("/api/operator/status", { ip: `198.51.100.${i}` })).status).toBe(401);
    expect(await controlRows("operator.auth_failed")).toHaveLength(60);
  });
});

describe("the operator token works nowhere else", () => {
  it("is an invalid token on /api/v1, on /mcp, on portal endpoints and on OAuth endpoints", async () => {
    const ws = await workspaceWithTokens();
    const { token } = await issueOperatorToken(CLI);
    const rest = await request(workspacePath(ws.workspaceId, "/knowledge"), { token });
    expect(rest.status).toBe(401);
    expect((await jsonOf(rest)).error).toBe("invalid_token");
    const mcp = await mcpRequest(rpc("tools/list"), { token });
    expect(mcp.status).toBe(401);
    for (const path of ["/api/workspaces", "/api/account/clients", "/api/account/export"]) {
      const portal = await request(path, { token });
      expect(portal.status, path).toBe(401);
    }
    const revoke = await request("/oauth/revoke", { token, method: "POST", rawBody: `token=${token}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(revoke.status).toBeGreaterThanOrEqual(400);
    expect(revoke.status).toBeLessThan(500);
    const register = await request("/oauth/token", { token, method: "POST", rawBody: "grant_type=client_credentials", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(register.status).toBeGreaterThanOrEqual(400);
    expect(register.status).toBeLessThan(500);
  });
});

describe("loopback only, by default", () => {
  it("from another address the API does not exist: the 404 of an unknown route, before the token is looked at", async () => {
    const { token } = await issueOperatorToken(CLI);
    const unknownRoute = await jsonOf(await request("/api/no-such-route"));
    for (const target of await validCalls()) {
      for (const ip of ["203.0.113.9", "10.0.0.2", "::ffff:192.0.2.1", "2001:db8::1"]) {
        const response = await call(target, { token, ip });
        await expectRefused(response, 404, `${target.label} from ${ip}`);
      }
      expect((await call(target, { token, ip: "::1" })).status, `${target.label} from ::1`).toBe(200);
      expect((await call(target, { token, ip: "::ffff:127.0.0.1" })).status).toBe(200);
    }
    const refused = await jsonOf(await request("/api/operator/status", { token, ip: "203.0.113.9" }));
    expect(refused.message).toBe(unknownRoute.message);
    expect(await controlRows("operator.auth_failed")).toHaveLength(0);
  });

  it("behind a trusted proxy: a forged X-Forwarded-For from another host is refused, and so is a remote client relayed by a local proxy", async () => {
    const { token } = await issueOperatorToken(CLI);
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_TRUST_PROXY: "true" }));
    const status = { path: "/api/operator/status", method: "GET" };
    await expectRefused(await call(status, { token, ip: "203.0.113.9", headers: { "x-forwarded-for": "127.0.0.1" } }), 404, "forged from afar");
    await expectRefused(await call(status, { token, ip: "203.0.113.9", headers: { "x-forwarded-for": "127.0.0.1, 127.0.0.1" } }), 404, "forged twice");
    await expectRefused(await call(status, { token, ip: "127.0.0.1", headers: { "x-forwarded-for": "198.51.100.4" } }), 404, "relayed by the local proxy");
    await expectRefused(await call(status, { token, ip: "127.0.0.1", headers: { "x-forwarded-for": "127.0.0.1, 198.51.100.4" } }), 404, "spoofed first entry");
    expect((await call(status, { token, ip: "127.0.0.1", headers: { "x-forwarded-for": "127.0.0.1" } })).status).toBe(200);
    expect((await call(status, { token, ip: "127.0.0.1" })).status).toBe(200);
  });

  it("ENCLAVE_OPERATOR_LOOPBACK_ONLY=false opens it to other addresses, still with the token alone", async () => {
    const { token } = await issueOperatorToken(CLI);
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_OPERATOR_LOOPBACK_ONLY: "false" }));
    expect((await request("/api/operator/status", { token, ip: "203.0.113.9" })).status).toBe(200);
    expect((await request("/api/operator/status", { ip: "203.0.113.9" })).status).toBe(401);
  });

  it("knows loopback when it sees it", () => {
    for (const address of ["127.0.0.1", "127.8.9.10", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) expect(isLoopback(address), address).toBe(true);
    for (const address of ["128.0.0.1", "::2", "1::1", "::ffff:10.0.0.1", "localhost", "unknown", "", "127.0.0.1.evil"]) expect(isLoopback(address), address).toBe(false);
  });
});

describe("rate limits", () => {
  it("per IP: the call over the budget is a 429 with Retry-After", async () => {
    const { token } = await issueOperatorToken(CLI);
    for (let i = 0; i < 60; i += 1) expect((await request("/api/operator/status", { token })).status).toBe(200);
    const limited = await request("/api/operator/status", { token });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await jsonOf(limited)).error).toBe("rate_limited");
  });

  it("failed tokens lock the IP out, the right token included, while another IP keeps working", async () => {
    const { token } = await issueOperatorToken(CLI);
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_OPERATOR_LOOPBACK_ONLY: "false" }));
    for (let i = 0; i < 10; i += 1) expect((await request("/api/operator/status", { token: oneOff(token), ip: "198.51.100.7" })).status).toBe(401);
    expect((await request("/api/operator/status", { token, ip: "198.51.100.7" })).status).toBe(429);
    expect((await request("/api/operator/status", { token, ip: "198.51.100.8" })).status).toBe(200);
  });
});

describe("GET /api/operator/status", () => {
  it("answers version, uptime, counts, storage, jobs, the last backup and drill — and no secret or hash", async () => {
    const ws = await workspaceWithTokens();
    await connected();
    const { token } = await issueOperatorToken(CLI);
    const { db } = await getControlDb();
    await db.insert(jobRuns).values({ job: "backup", trigger: "schedule", startedAt: 1_000, endedAt: 2_000, outcome: "ok", figures: '{"files":3}' });
    await db.insert(backupDrills).values({ backupId: "20261202T053000Z-1a2b3c", startedAt: 5_000, endedAt: 9_000, outcome: "ok", steps: '[{"name":"sign-in","ok":true,"ms":12}]' });
    const response = await request("/api/operator/status", { token });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.clone().text();
    const status = await jsonOf<OperatorStatus>(response);
    const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), "package.json"), "utf8")) as { version: string };
    expect(status.version).toBe(pkg.version);
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(status.counts).toMatchObject({ workspaces: 2, deletedWorkspaces: 0, teamTokens: 6, oauthClients: 1, suspendedUsers: 0 });
    expect(status.counts.users).toBeGreaterThanOrEqual(2);
    expect(status.counts.sessions).toBeGreaterThanOrEqual(1);
    expect(status.storage.dataBytes).toBeGreaterThan(0);
    expect(status.storage.freeBytes).toBeGreaterThan(0);
    expect(status.storage.totalBytes).toBeGreaterThanOrEqual(status.storage.freeBytes);
    expect(typeof status.storage.openWorkspaceHandles).toBe("number");
    expect(status.storage).toMatchObject({ damaged: [], diskFull: null });
    expect(status.jobs.map((job) => job.name)).toContain("expired-sessions");
    expect(status.lastBackup).toMatchObject({ outcome: "ok", figures: { files: 3 } });
    expect(status.lastDrill).toMatchObject({ backupId: "20261202T053000Z-1a2b3c", outcome: "ok", steps: [{ name: "sign-in", ok: true }] });
    for (const secret of [token, ws.admin, ws.viewer, ws.member]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(text).not.toMatch(/enc_[a-z]{2}_/);
    const [row] = await controlRows("operator.status");
    expect(row).toMatchObject({ actorType: "system", actorId: "operator:token", ip: "127.0.0.1" });
  });
});

describe("GET /api/operator/workspaces", () => {
  it("lists ids, names, owners, sizes and flags in pages — never contents, secrets or hashes", async () => {
    const made = [await workspaceWithTokens(), await workspaceWithTokens(), await workspaceWithTokens()];
    const { token } = await issueOperatorToken(CLI);
    const seen: OperatorWorkspacePage["items"] = [];
    let cursor: string | null = null;
    let text = "";
    do {
      const response = await request("/api/operator/workspaces", { token, query: { limit: "2", ...(cursor ? { cursor } : {}) } });
      expect(response.status).toBe(200);
      text += await response.clone().text();
      const page = await jsonOf<OperatorWorkspacePage>(response);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((item) => item.id).sort()).toEqual(made.map((ws) => ws.workspaceId).sort());
    for (const ws of made) {
      const item = seen.find((each) => each.id === ws.workspaceId)!;
      expect(item).toMatchObject({ name: "Team", owners: [{ id: ws.owner.id, email: ws.owner.email }], deleted: false, offline: false });
      expect(item.sizeBytes).toBeGreaterThan(0);
      for (const secret of [ws.admin, ws.viewer, ws.member, token]) expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(text).not.toContain("password");
  });

  it("refuses a bad limit or cursor with a 400", async () => {
    const { token } = await issueOperatorToken(CLI);
    const queries: Record<string, string>[] = [{ limit: "0" }, { limit: "501" }, { limit: "x" }, { cursor: "../../etc" }, { other: "1" }];
    for (const query of queries) {
      await expectRefused(await request("/api/operator/workspaces", { token, query }), 400, JSON.stringify(query));
    }
  });
});

describe("POST /api/operator/jobs/{job}/run", () => {
  it("runs the job with trigger operator and answers its result; an unknown job is a 404, audited", async () => {
    const { token } = await issueOperatorToken(CLI);
    const response = await request("/api/operator/jobs/expired-sessions/run", { token, method: "POST" });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toMatchObject({ outcome: "ok", figures: { sessions: 0 } });
    const { db } = await getControlDb();
    const [run] = await db.select().from(jobRuns).where(eq(jobRuns.job, "expired-sessions"));
    expect(run).toMatchObject({ trigger: "operator", outcome: "ok" });
    await expectRefused(await request("/api/operator/jobs/no-such-job/run", { token, method: "POST" }), 404, "unknown job");
    expect((await controlRows("operator.job_run")).map((row) => [row.target, JSON.parse(row.details) as unknown])).toEqual([["expired-sessions", { outcome: "ok" }]]);
    expect((await controlRows("operator.refused")).map((row) => [row.target, row.actorId, JSON.parse(row.details) as unknown])).toEqual([
      ["no-such-job", "operator:token", { attempted: "operator.job_run", error: "not_found", status: 404 }],
    ]);
    expect((await request("/api/operator/jobs/expired-sessions/run", { token })).status).toBe(405);
  });
});

describe("GET /api/operator/audit/verify", () => {
  it("verifies every chain, and reports a workspace whose file cannot be read while the rest go on", async () => {
    const good = await workspaceWithTokens();
    const bad = await workspaceWithTokens();
    const { token } = await issueOperatorToken(CLI);
    const first = await jsonOf<AuditVerifyReport>(await request("/api/operator/audit/verify", { token }));
    expect(first.ok).toBe(true);
    expect(first.chains.map((chain) => chain.chain).sort()).toEqual(["control", `workspace:${good.workspaceId}`, `workspace:${bad.workspaceId}`].sort());
    expect(first.chains.every((chain) => chain.ok && chain.rows > 0 && /^\d+:[0-9a-f]{64}$/.test(chain.head ?? ""))).toBe(true);

    // The damaged workspace's file: not a database any more, and its handle closed so it is opened afresh.
    const { closeStore, getStore } = await import("@/lib/db/store");
    await closeStore();
    const file = path.join(store.dataDir(), "workspaces", bad.workspaceId, "workspace.db");
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
    for (const extra of ["-wal", "-shm"]) fs.rmSync(file + extra, { force: true });
    await getStore().control;
    const response = await request("/api/operator/audit/verify", { token });
    expect(response.status).toBe(200);
    const report = await jsonOf<AuditVerifyReport>(response);
    expect(report.ok).toBe(false);
    const broken = report.chains.find((chain) => chain.chain === `workspace:${bad.workspaceId}`)!;
    expect(broken).toMatchObject({ ok: false, rows: 0, head: null });
    expect(broken.reason).toMatch(/^could not read the file/);
    expect(report.chains.find((chain) => chain.chain === `workspace:${good.workspaceId}`)).toMatchObject({ ok: true });
    expect(report.chains.find((chain) => chain.chain === "control")).toMatchObject({ ok: true });
    const [row] = await controlRows("operator.audit_verify");
    expect(JSON.parse(row!.details)).toEqual({ ok: false, chains: 3, broken: 1 });
  });
});

describe("the OpenAPI document", () => {
  it("validates, and lists every operator endpoint under the operator tag with the operator token as its only security", async () => {
    type Operation = { tags?: string[]; security?: unknown };
    const document = await jsonOf<{ tags: unknown[]; paths: Record<string, Record<string, Operation> & { servers?: unknown }> }>(await request("/api/v1/openapi.json"));
    const verdict = await new Validator().validate(document);
    expect(verdict.errors ?? []).toEqual([]);
    expect(document.tags).toContainEqual(expect.objectContaining({ name: "operator" }));
    for (const endpoint of operatorEndpointList) {
      const operation = document.paths[endpoint.path]?.[endpoint.method.toLowerCase()];
      expect(operation?.tags, endpoint.path).toEqual(["operator"]);
      expect(operation?.security).toEqual([{ operatorToken: [] }]);
      expect(document.paths[endpoint.path]?.servers).toEqual([{ url: "http://localhost:3000" }]);
    }
  });
});
