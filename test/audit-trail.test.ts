import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { auditControlTx, auditWorkspace, controlAuditLog, workspaceAuditLog } from "@/lib/audit/audit";
import { forgetChainStatus } from "@/lib/audit/chain-status";
import { AUDIT_DETAILS_MAX_BYTES } from "@/lib/audit/details";
import { readAccountActivity } from "@/lib/audit/activity";
import { auditQuerySchema } from "@/lib/audit/trail";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { auditHeads, refusalRows, sessionCookieForUser, teamTokenId, userInWorkspace, workspaceWithTokens } from "./api";
import { acceptFromAnswer } from "./invitations";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { appFetch, jsonOf, request, workspacePath } from "./harness";
import { MCP_URL, mcpRequest, toolCall } from "./mcp-client";
import { connected, grantFor } from "./oauth-attack-helpers";
import { secretSamples, type SecretSample } from "./secrets";
import { useTempStore } from "./store";

useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "100000" });
beforeEach(() => resetRateLimits());

type Fx = Awaited<ReturnType<typeof workspaceWithTokens>>;
type Row = { seq: number; at: number; actorType: string; actorId: string | null; actorName: string | null; action: string; target: string | null; requestId: string | null; details: Record<string, unknown> };
type Page = { items: Row[]; nextCursor: number | null; prevCursor: number | null; chain: { ok: boolean; verifiedThrough: number; headSeq: number; problem: unknown } };

const auditPath = (workspaceId: string) => workspacePath(workspaceId, "/audit");
const readAudit = (fx: Fx, query: Record<string, string> = {}, token = fx.admin) => request(auditPath(fx.workspaceId), { token, query });
const pageOf = async (fx: Fx, query: Record<string, string> = {}) => {
  const response = await readAudit(fx, query);
  expect(response.status, JSON.stringify(query)).toBe(200);
  return jsonOf<Page>(response);
};

/** A JSON-RPC call to /mcp and its result, for calls that should reach the tools. */
async function mcpCall(token: string, name: string, args: Record<string, unknown>) {
  const response = await mcpRequest(toolCall(name, args), { token });
  return { status: response.status, body: await jsonOf<{ result?: { isError?: boolean; content: { text: string }[] } }>(response) };
}

/** Every column of every row of both chains, as text: where a secret must not be. */
async function everyAuditRow(workspaceId: string): Promise<string> {
  const workspace = await withWorkspace(workspaceId, (db) => db.db.select().from(workspaceAuditLog));
  const control = await getControlDb();
  return JSON.stringify([workspace, await control.db.select().from(controlAuditLog)]);
}

/** The secret and every 12-character piece of its long runs: a partial leak is a leak. */
function fragments(secret: string): string[] {
  const out = new Set([secret]);
  for (const run of secret.match(/[A-Za-z0-9+/=_-]{12,}/g) ?? []) for (let i = 0; i + 12 <= run.length; i += 12) out.add(run.slice(i, i + 12));
  return [...out];
}

const leaksIn = (text: string, samples: SecretSample[]) => samples.flatMap((sample) => fragments(sample.secret).filter((piece) => text.includes(piece)).map((piece) => `${sample.kind}: ${piece}`));

describe("refusals are audited", () => {
  it("a viewer token writing knowledge is a 403 and one access.denied row an admin can read", async () => {
    const fx = await workspaceWithTokens();
    const write = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer, body: { title: "x", body: "y" } });
    expect(write.status).toBe(403);
    const { items } = await pageOf(fx, { action: "access.denied" });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      actorType: "token",
      actorId: await teamTokenId(fx.viewer),
      actorName: "viewer",
      target: "createKnowledge",
      requestId: (await jsonOf<{ requestId: string }>(write)).requestId,
      details: { reason: "insufficient_scope", scope: "knowledge", attempted: "createKnowledge" },
    });
  });

  it("a member's AI client calling an admin tool is a 403 step-up and an access.denied row naming the client", async () => {
    const fx = await connected({ role: "member", scope: "search knowledge" });
    const heads = await auditHeads(fx.workspaceId);
    const response = await mcpRequest(toolCall("audit_tail", {}), { token: fx.tokens.access_token });
    expect(response.status).toBe(403);
    const grant = await grantFor(fx.tokens.access_token);
    const { workspace, control } = await refusalRows(fx.workspaceId, heads);
    expect(control).toEqual([]);
    expect(workspace).toEqual([
      expect.objectContaining({ action: "access.denied", actorType: "oauth", actorId: grant?.id, target: "tool:audit_tail", details: { reason: "insufficient_scope", scope: "audit", attempted: "tool:audit_tail" } }),
    ]);
  });

  it("the audit endpoint refuses a viewer and a member (403, itself audited), and another workspace's id is a 404 recorded in control.db only", async () => {
    const fx = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    for (const token of [fx.viewer, fx.member]) {
      const response = await readAudit(fx, {}, token);
      expect(response.status).toBe(403);
      expect((await jsonOf(response)).error).toBe("insufficient_scope");
    }
    const denied = (await pageOf(fx, { action: "access.denied" })).items;
    expect(denied.map((row) => [row.actorName, row.target, row.details.scope])).toEqual([
      ["member", "listAudit", "audit"],
      ["viewer", "listAudit", "audit"],
    ]);

    const heads = await auditHeads(other.workspaceId);
    const foreign = await request(auditPath(other.workspaceId), { token: fx.admin });
    expect(foreign.status).toBe(404);
    const recorded = await refusalRows(other.workspaceId, heads);
    expect(recorded.workspace).toEqual([]);
    expect(recorded.control).toEqual([expect.objectContaining({ action: "access.denied", actorType: "token", target: other.workspaceId, details: { reason: "not_visible", attempted: "listAudit" } })]);
    // Nothing of the stranger's visit shows in the other workspace's own trail.
    expect(JSON.stringify(await pageOf(other))).not.toContain(await teamTokenId(fx.admin));
  });

  it("no row for a request without credentials, or for an id that is no workspace id at all", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    expect((await request(auditPath(fx.workspaceId))).status).toBe(401);
    expect((await request(auditPath("not-a-workspace"), { token: fx.admin })).status).toBe(404);
    expect(await refusalRows(fx.workspaceId, heads)).toEqual({ workspace: [], control: [] });
  });

  it("a flood of refusals by one principal is recorded up to its budget, and the next row counts the rest", async () => {
    const fx = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    const flood = (path: string) => Promise.all(Array.from({ length: 75 }, () => request(path, { token: fx.viewer, body: { title: "x", body: "y" } })));
    for (const response of await flood(workspacePath(fx.workspaceId, "/knowledge"))) expect(response.status).toBe(403);
    for (const response of await flood(workspacePath(other.workspaceId, "/knowledge"))) expect(response.status).toBe(404);
    const rows = await refusalRows(fx.workspaceId);
    expect(rows.workspace).toHaveLength(60);
    expect(rows.control).toHaveLength(60);
    // A minute later (a fresh budget), the next refusal's row says how many went unrecorded.
    resetRateLimits();
    await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer, body: { title: "x", body: "y" } });
    expect((await refusalRows(fx.workspaceId)).workspace.at(-1)?.details).toMatchObject({ reason: "insufficient_scope", unrecordedBefore: 15 });
  });
});

describe("MCP tool calls", () => {
  it("every tools/call is one row with its outcome: a result, a tool error, arguments the schema refuses, a tool we do not have", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    expect((await mcpCall(fx.member, "search", { query: "anything" })).body.result?.isError).toBeFalsy();
    expect((await mcpCall(fx.member, "get_knowledge", { id: `kn_${"0".repeat(32)}` })).body.result?.isError).toBe(true);
    expect((await mcpCall(fx.member, "remember", { title: 42 })).body.result?.isError).toBe(true);
    expect((await mcpCall(fx.member, "no_such_tool", {})).body.result?.isError).toBe(true);
    const rows = (await refusalRows(fx.workspaceId, heads)).workspace;
    expect(rows.map((row) => [row.action, row.target, row.details.tool, row.details.outcome, row.details.error])).toEqual([
      ["mcp.tool_call", "search", "search", "ok", undefined],
      ["mcp.tool_call", "get_knowledge", "get_knowledge", "error", "not_found"],
      ["mcp.tool_call", "remember", "remember", "error", "not_run"],
      ["mcp.tool_call", null, "no_such_tool", "error", "unknown_tool"],
    ]);
    expect(rows[0]?.details.arguments).toEqual({ query: "anything" });
  });

  it("a write through MCP leaves the write's row and the call's row, with one request id", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    const response = await mcpRequest(toolCall("publish_event", { type: "build.done", payload: { ok: true } }), { token: fx.member });
    expect(response.status).toBe(200);
    const rows = await withWorkspace(fx.workspaceId, (db) => db.db.select().from(workspaceAuditLog));
    const fresh = rows.filter((row) => row.seq > heads.workspace);
    expect(fresh.map((row) => row.action)).toEqual(["event.publish", "mcp.tool_call"]);
    expect(new Set(fresh.map((row) => row.requestId)).size).toBe(1);
    expect(fresh[0]?.requestId).toEqual(expect.any(String));
  });

  it("concurrent calls are committed together, and each row keeps its own request's id and address", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": LATEST_PROTOCOL_VERSION, authorization: `Bearer ${fx.viewer}` };
    const calls = Array.from({ length: 24 }, (_, i) => appFetch(MCP_URL, { method: "POST", headers, body: JSON.stringify(toolCall("search", { query: `q${i}` })), ip: `10.0.0.${i}` }));
    for (const response of await Promise.all(calls)) expect(response.status).toBe(200);
    const rows = await withWorkspace(fx.workspaceId, (db) => db.db.select().from(workspaceAuditLog));
    const fresh = rows.filter((row) => row.seq > heads.workspace && row.action === "mcp.tool_call");
    expect(fresh).toHaveLength(24);
    expect(new Set(fresh.map((row) => row.requestId)).size).toBe(24);
    for (const row of fresh) expect(row.ip).toBe(`10.0.0.${(JSON.parse(row.details) as { arguments: { query: string } }).arguments.query.slice(1)}`);
  });

  it("a batch of calls gives one row per call", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    const batch = [toolCall("search", { query: "a" }, 1), toolCall("search", { query: "b" }, 2), { jsonrpc: "2.0", method: "tools/call", params: { name: "search" } }];
    expect((await mcpRequest(batch, { token: fx.viewer })).status).toBe(200);
    const rows = (await refusalRows(fx.workspaceId, heads)).workspace;
    expect(rows.map((row) => row.details.arguments)).toEqual([{ query: "a" }, { query: "b" }]);
  });
});

describe("secrets never reach an audit row", () => {
  const samples = secretSamples.filter((sample) => sample.text.length < 1000);
  const pick = (kind: string) => samples.find((sample) => sample.kind === kind)!;
  const aws = pick("aws_access_key_id");
  const github = pick("github_token");

  async function sendEverywhere(fx: Fx) {
    for (const sample of samples) {
      await mcpCall(fx.member, "remember", { title: "note", body: sample.text, tags: ["ops"] });
      await mcpCall(fx.member, "update_session", { name: `s-${samples.indexOf(sample)}`, rev: 0, state: { memory: [{ text: sample.text }], [sample.text]: 1 } });
      await mcpCall(fx.member, "publish_event", { type: "log", payload: { lines: [sample.text] } });
      await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title: "via REST", body: sample.text } });
    }
    // Refused before any tool ran, a tool we do not have, and a string too long to scan whole: still no secret.
    await mcpCall(fx.member, "remember", { title: "x".repeat(300), body: aws.text });
    await mcpCall(fx.member, github.secret, { token: github.secret });
    await mcpCall(fx.member, "put_artifact", { name: "big.txt", content: `${"x".repeat(5000)} ${aws.text}` });
    await mcpCall(fx.member, "put_artifact", { name: github.secret.slice(0, 40), content: github.text });
    // A viewer's refused write carries the secret in its body: the denial records no arguments.
    await mcpCall(fx.viewer, "remember", { title: "x", body: github.text });
  }

  it("sent as tool arguments, knowledge bodies, session keys and values, event payloads and artifact names", async () => {
    const fx = await workspaceWithTokens();
    await sendEverywhere(fx);
    const rows = await everyAuditRow(fx.workspaceId);
    expect(rows).toContain("[REDACTED:aws_access_key_id]");
    expect(rows).toContain("characters, not recorded]");
    expect(leaksIn(rows, samples)).toEqual([]);
  });

  it("also in a workspace whose admin turned redaction off: its data keeps the secrets, its audit trail does not", async () => {
    const fx = await workspaceWithTokens();
    const off = await request(workspacePath(fx.workspaceId, "/settings/redaction"), { token: fx.admin, method: "PUT", body: { level: "off", customPatterns: [] } });
    expect(off.status).toBe(200);
    await mcpCall(fx.member, "remember", { title: "kept as sent", body: aws.text });
    await mcpCall(fx.member, "publish_event", { type: "log", payload: { line: github.text } });
    const stored = await withWorkspace(fx.workspaceId, (db) => db.rows("SELECT body FROM knowledge"));
    expect(JSON.stringify(stored)).toContain(aws.secret);
    expect(leaksIn(await everyAuditRow(fx.workspaceId), [aws, github])).toEqual([]);
  });

  it("details stay within 2 KB however large the arguments", async () => {
    const fx = await workspaceWithTokens();
    const heads = await auditHeads(fx.workspaceId);
    const state = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, { nested: { deeper: { deepest: ["é".repeat(900), i] } } }]));
    await mcpCall(fx.member, "update_session", { name: "huge", rev: 0, state });
    const [row] = (await refusalRows(fx.workspaceId, heads)).workspace;
    expect(row?.details.outcome).toBe("ok");
    expect(Buffer.byteLength(JSON.stringify(row?.details))).toBeLessThanOrEqual(AUDIT_DETAILS_MAX_BYTES);
  });
});

describe("reading the trail: filters and cursors", () => {
  afterEach(() => vi.useRealTimers());

  /** 30 rows at known times: knowledge.create by the member token, artifact.put by the admin token, access.denied by a person. */
  async function seeded() {
    const fx = await workspaceWithTokens();
    const [member, admin] = [await teamTokenId(fx.member), await teamTokenId(fx.admin)];
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.parse("2026-03-01T00:00:00Z");
    for (let i = 0; i < 30; i++) {
      vi.setSystemTime(start + i * 60 * 60 * 1000);
      const [actor, action] = i % 3 === 0 ? [{ type: "token" as const, id: admin }, "artifact.put" as const] : i % 3 === 1 ? [{ type: "token" as const, id: member }, "knowledge.create" as const] : [{ type: "user" as const, id: fx.owner.id }, "access.denied" as const];
      await auditWorkspace(fx.workspaceId, { actor, action, target: `t${i}` });
    }
    vi.useRealTimers();
    const all = (await pageOf(fx, { limit: "200" })).items;
    return { fx, member, admin, start, all };
  }

  /** Follows one cursor from a first page to the end, collecting every seq. */
  async function walk(fx: Fx, query: Record<string, string>, first: Page, direction: "older" | "newer") {
    const pages = [first.items.map((row) => row.seq)];
    let page = first;
    for (;;) {
      const cursor = direction === "older" ? page.nextCursor : page.prevCursor;
      if (cursor === null) return pages;
      page = await pageOf(fx, { ...query, ...(direction === "older" ? { before: String(cursor) } : { after: String(cursor) }) });
      pages.push(page.items.map((row) => row.seq));
      expect(pages.length).toBeLessThan(50);
    }
  }

  it("pages through every row once, newest first, with older and newer cursors that agree", async () => {
    const { fx, all } = await seeded();
    const query = { action: "knowledge.create", limit: "4" };
    const expected = all.filter((row) => row.action === "knowledge.create").map((row) => row.seq);
    expect(expected).toHaveLength(10);
    const first = await pageOf(fx, query);
    expect(first.prevCursor).toBeNull();
    const older = await walk(fx, query, first, "older");
    expect(older.flat()).toEqual(expected);
    expect(older.map((seqs) => seqs.length)).toEqual([4, 4, 2]);
    // From the oldest page back up, the same pages in reverse.
    const last = await pageOf(fx, { ...query, before: String(older[1]!.at(-1)) });
    const newer = await walk(fx, query, last, "newer");
    expect(newer).toEqual([...older].reverse());
  });

  it("filters by actor, action prefix and time, inclusive at both ends, and a date runs to the end of its day", async () => {
    const { fx, member, start, all } = await seeded();
    const actions = (page: Page) => [...new Set(page.items.map((row) => row.action))];
    expect(actions(await pageOf(fx, { actor: `token:${member}`, limit: "200" }))).toEqual(["knowledge.create"]);
    expect((await pageOf(fx, { actor: "token", limit: "200" })).items).toHaveLength(20);
    expect((await pageOf(fx, { actor: `user:${fx.owner.id}`, limit: "200" })).items.map((row) => row.action)).toEqual([...Array<string>(10).fill("access.denied"), "workspace.create"]);
    expect(actions(await pageOf(fx, { action: "knowledge.*", limit: "200" }))).toEqual(["knowledge.create"]);
    expect((await pageOf(fx, { action: "knowledge", limit: "200" })).items).toEqual([]);
    const hours = (from: number, to: number) => ({ from: String(start + from * 3_600_000), to: new Date(start + to * 3_600_000).toISOString() });
    expect((await pageOf(fx, { ...hours(3, 5), limit: "200" })).items.map((row) => row.target)).toEqual(["t5", "t4", "t3"]);
    expect((await pageOf(fx, { from: "2026-03-02", to: "2026-03-02", limit: "200" })).items.map((row) => row.target)).toEqual(["t29", "t28", "t27", "t26", "t25", "t24"]);
    expect((await pageOf(fx, { to: "2026-02-28", limit: "200" })).items).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(30);
  });

  it.each([
    ["before=-1", { before: "-1" }, "before"],
    ["before=abc", { before: "abc" }, "before"],
    ["after=1.5", { after: "1.5" }, "after"],
    ["after=0x10", { after: "0x10" }, "after"],
    ["after >= before", { after: "9", before: "9" }, "before"],
    ["from=yesterday", { from: "yesterday" }, "from"],
    ["from=2026-02-30", { from: "2026-02-30" }, "from"],
    ["to before from", { from: "2026-03-02", to: "2026-03-01" }, "to"],
    ["a made-up actor type", { actor: "admin:1" }, "actor"],
    ["an action with a wildcard inside", { action: "knowledge*" }, "action"],
    ["limit=201", { limit: "201" }, "limit"],
  ])("%s is a 400 naming the field", async (_label, query, field) => {
    const fx = await workspaceWithTokens();
    const response = await readAudit(fx, query);
    expect(response.status).toBe(400);
    const body = await jsonOf<{ error: string; fieldErrors: Record<string, string[]> }>(response);
    expect(Object.keys(body.fieldErrors)).toContain(field);
  });

  it("names actors for people: an email, a token's name (still after it is revoked), an AI client's, else the bare id", async () => {
    const fx = await workspaceWithTokens();
    const ai = await connected({ role: "member", scope: "search knowledge" });
    await mcpRequest(toolCall("search", { query: "x" }), { token: ai.tokens.access_token });
    const adminOf = await userInWorkspace(ai.workspaceId, "admin");
    const viewerId = await teamTokenId(fx.viewer);
    await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer, body: { title: "x", body: "y" } });
    expect((await request(workspacePath(fx.workspaceId, `/tokens/${viewerId}`), { token: fx.admin, method: "DELETE" })).status).toBe(204);
    await auditWorkspace(fx.workspaceId, { actor: { type: "token", id: "tok_gone" }, action: "knowledge.create" });
    const names = (await pageOf(fx, { limit: "200" })).items.map((row) => [row.actorId, row.actorName]);
    expect(names).toContainEqual([viewerId, "viewer"]);
    expect(names).toContainEqual(["tok_gone", null]);
    const aiRows = await request(auditPath(ai.workspaceId), { cookie: adminOf.cookie });
    const [call] = (await jsonOf<Page>(aiRows)).items.filter((row) => row.action === "mcp.tool_call");
    expect(call?.actorName).toMatch(/ \(for user-.*@example\.com\)$/);
  });

  it("the chain status says through which seq it verified, and a tampered row is reported once the cache is past", async () => {
    const { fx } = await seeded();
    const first = await pageOf(fx);
    expect(first.chain).toMatchObject({ ok: true, problem: null });
    expect(first.chain.verifiedThrough).toBe(first.chain.headSeq);
    await withWorkspace(fx.workspaceId, (db) => db.db.update(workspaceAuditLog).set({ target: "rewritten" }).where(eq(workspaceAuditLog.seq, 5)));
    forgetChainStatus();
    const after = await pageOf(fx);
    expect(after.chain).toMatchObject({ ok: false, verifiedThrough: 4, problem: { seq: 5 } });
  });

  it("the schema is the REST query's, for every surface", () => {
    expect(auditQuerySchema.parse({ from: "2026-03-31", to: "2026-03-31" })).toMatchObject({ from: Date.parse("2026-03-31T00:00:00Z"), to: Date.parse("2026-04-01T00:00:00Z") - 1, limit: 50 });
  });
});

describe("Account › Activity", () => {
  it("holds a person's own rows and what was done to their account, never another person's sign-ins or IP", async () => {
    const fx = await workspaceWithTokens();
    const signIn = (email: string, password: string, ip: string) => request("/api/auth/sign-in", { body: { email, password }, headers: { origin: "http://localhost:3000" }, ip });
    expect((await signIn(fx.owner.email, "correct horse battery", "203.0.113.7")).status).toBe(200);
    expect((await signIn(fx.owner.email, "wrong password here", "198.51.100.9")).status).toBe(401);
    const other = await workspaceWithTokens();
    expect((await signIn(other.owner.email, "correct horse battery", "192.0.2.44")).status).toBe(200);
    // The other person adds our owner to their workspace: a row about our owner, written by someone else.
    const otherCookie = (await userInWorkspace(other.workspaceId, "admin")).cookie;
    // Invited (the owner accepts), then promoted by the other person: a row about our owner, written by someone else.
    await acceptFromAnswer(await request(workspacePath(other.workspaceId, "/members"), { cookie: otherCookie, body: { email: fx.owner.email, role: "viewer" }, ip: "192.0.2.99" }), await sessionCookieForUser(fx.owner.id));
    expect((await request(workspacePath(other.workspaceId, `/members/${fx.owner.id}`), { cookie: otherCookie, method: "PATCH", body: { role: "member" }, ip: "192.0.2.99" })).status).toBe(200);

    const { items } = await readAccountActivity(fx.owner, auditQuerySchema.parse({ limit: 200 }));
    const seen = items.map((row) => [row.action, row.ip]);
    expect(seen).toContainEqual(["user.sign_in", "203.0.113.7"]);
    expect(seen).toContainEqual(["user.sign_in_failed", "198.51.100.9"]);
    expect(seen).toContainEqual(["member.role_change", null]);
    expect(JSON.stringify(items)).not.toContain("192.0.2.");
    expect(items.every((row) => (row.actorType === "user" && row.actorId === fx.owner.id) || row.target === fx.owner.id)).toBe(true);
    expect(items.some((row) => row.actorId === other.owner.id)).toBe(false);
  });

  it("pages like the workspace trail", async () => {
    const fx = await workspaceWithTokens();
    for (let i = 0; i < 7; i++) await auditWorkspace(fx.workspaceId, { actor: { type: "system" }, action: "knowledge.create" });
    const control = await getControlDb();
    for (let i = 0; i < 7; i++) {
      await control.transaction((tx) => auditControlTx(tx, { actor: { type: "user", id: fx.owner.id }, action: "user.sign_out", target: fx.owner.id }));
    }
    const first = await readAccountActivity(fx.owner, auditQuerySchema.parse({ limit: 3, action: "user.sign_out" }));
    const second = await readAccountActivity(fx.owner, auditQuerySchema.parse({ limit: 3, action: "user.sign_out", before: String(first.nextCursor) }));
    const third = await readAccountActivity(fx.owner, auditQuerySchema.parse({ limit: 3, action: "user.sign_out", before: String(second.nextCursor) }));
    const seqs = [first, second, third].flatMap((page) => page.items.map((row) => row.seq));
    expect(new Set(seqs).size).toBe(7);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(third.nextCursor).toBeNull();
  });
});
