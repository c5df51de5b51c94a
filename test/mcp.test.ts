import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { roleScopes } from "@/lib/access/scopes";
import { revokeTeamToken } from "@/lib/access/tokens";
import { toolScopes } from "@/lib/mcp/tools";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { createKnowledge, getKnowledge } from "@/lib/workspace/knowledge";
import { ownerAccess, snapshotWorkspace, teamTokenId, workspaceWithTokens } from "./api";
import { callError, callOk, connectClient } from "./mcp-client";
import { secretSamples } from "./secrets";
import { useTempStore } from "./store";

useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000" });
beforeEach(() => resetRateLimits());

type Entry = { id: string; uri: string; title: string; body: string; version: number };

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function client(token: string, seen?: Response[]): Promise<Client> {
  const connected = await connectClient(token, { seen });
  // Listing first arms the client's output-schema validators: every structured result below is checked against them.
  await connected.listTools();
  clients.push(connected);
  return connected;
}

const toolNames = async (c: Client) => (await c.listTools()).tools.map((tool) => tool.name).sort();
const expectedTools = (role: "viewer" | "member" | "admin") =>
  Object.entries(toolScopes)
    .filter(([, scope]) => roleScopes[role].includes(scope))
    .map(([name]) => name)
    .sort();

describe("tools/list", () => {
  it("shows each role exactly the tools its scopes allow", async () => {
    const ws = await workspaceWithTokens();
    const viewer = await toolNames(await client(ws.viewer));
    const member = await toolNames(await client(ws.member));
    const admin = await toolNames(await client(ws.admin));
    expect(viewer).toEqual(["get_artifact", "get_knowledge", "get_session", "list_events", "neighbors", "search"]);
    expect(viewer).toEqual(expectedTools("viewer"));
    expect(member).toEqual(expectedTools("member"));
    expect(member).toContain("remember");
    expect(member).not.toContain("audit_tail");
    expect(admin).toEqual(Object.keys(toolScopes).sort());
  });

  it("publishes input and output schemas for every tool", async () => {
    const ws = await workspaceWithTokens();
    const { tools } = await (await client(ws.admin)).listTools();
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      // The REST response shapes, written out in place: no $ref into OpenAPI definitions.
      expect(JSON.stringify(tool.outputSchema), tool.name).not.toContain("$ref");
    }
    expect(tools.find((tool) => tool.name === "forget")?.annotations?.destructiveHint).toBe(true);
  });
});

describe("knowledge tools", () => {
  it("finds with search what remember stored, and reads it back by id", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    const { entry, created } = await callOk<{ entry: Entry; created: boolean }>(member, "remember", {
      title: "Release checklist",
      body: "Before a release, run the migration dry-run and tag the commit.",
      tags: ["ops"],
    });
    expect(created).toBe(true);
    expect(entry.uri).toBe(`enclave://knowledge/${entry.id}`);
    const { hits } = await callOk<{ hits: { id: string; snippet: string }[] }>(member, "search", { query: "migration" });
    expect(hits.map((hit) => hit.id)).toEqual([entry.id]);
    expect(hits[0]?.snippet).toContain("**migration**");
    const read = await callOk<{ entry: Entry }>(await client(ws.viewer), "get_knowledge", { id: entry.id });
    expect(read.entry).toMatchObject({ title: "Release checklist", version: 1, author: `token:${await teamTokenId(ws.member)}` });
  });

  it("redacts secrets before storing, exactly as the REST API does, and audits it", async () => {
    const ws = await workspaceWithTokens();
    const aws = secretSamples.find((sample) => sample.kind === "aws_access_key_id")!;
    const password = secretSamples.find((sample) => sample.text.startsWith("DB_PASSWORD="))!;
    const member = await client(ws.member);
    const result = await callOk<{ entry: Entry; redaction: { count: number; kinds: string[] } }>(member, "remember", {
      title: "Prod access",
      body: `${aws.text}\n${password.text}`,
    });
    expect(result.redaction.count).toBe(2);
    expect(result.redaction.kinds).toEqual(expect.arrayContaining(["aws_access_key_id"]));
    expect(JSON.stringify(result)).not.toContain(aws.secret);
    const stored = await getKnowledge(await ownerAccess(ws, "search"), result.entry.id);
    expect(stored.body).toContain("[REDACTED:aws_access_key_id]");
    expect(stored.body).toContain("DB_PASSWORD=[REDACTED:");
    const snapshot = await snapshotWorkspace(ws.workspaceId);
    expect(snapshot).not.toContain(aws.secret);
    expect(snapshot).not.toContain(password.secret);
    // One write, two rows with one request id: the write's (what redaction took out) and the call's (its arguments, redacted).
    type Row = { action: string; target: string; actorType: string; actorName: string; requestId: string; details: Record<string, unknown> };
    const admin = await client(ws.admin);
    const [written] = (await callOk<{ items: Row[] }>(admin, "audit_tail", { action: "knowledge.create" })).items;
    expect(written).toMatchObject({ target: result.entry.id, actorType: "token", actorName: "member", details: { redaction: { count: 2 } } });
    const calls = (await callOk<{ items: Row[] }>(admin, "audit_tail", { action: "mcp.tool_call" })).items;
    const call = calls.find((row) => row.requestId === written?.requestId);
    expect(call).toMatchObject({ target: "remember", details: { tool: "remember", outcome: "ok", arguments: { title: "Prod access" } } });
    expect(JSON.stringify(call)).toContain("[REDACTED:aws_access_key_id]");
    const everything = JSON.stringify((await callOk<{ items: Row[] }>(admin, "audit_tail", { limit: 200 })).items);
    expect(everything).not.toContain(aws.secret);
    expect(everything).not.toContain(password.secret);
  });

  it("updates by id with a version check, and refuses a stale version as a tool error", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    const { entry } = await callOk<{ entry: Entry }>(member, "remember", { title: "Runbook", body: "v1" });
    const updated = await callOk<{ entry: Entry; created: boolean }>(member, "remember", { id: entry.id, body: "v2", version: 1 });
    expect(updated).toMatchObject({ created: false, entry: { title: "Runbook", body: "v2", version: 2 } });
    const stale = await callError(member, "remember", { id: entry.id, body: "v3", version: 1 });
    expect(stale).toMatch(/^version_conflict: .*now version 2/);
    expect((await getKnowledge(await ownerAccess(ws, "search"), entry.id)).body).toBe("v2");
    expect(await callError(member, "remember", { title: "no body" })).toMatch(/^invalid_request: body/);
  });

  it("links entries, lists neighbours, and forgets an entry with an audit row", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    const a = (await callOk<{ entry: Entry }>(member, "remember", { title: "API", body: "the api" })).entry;
    const b = (await callOk<{ entry: Entry }>(member, "remember", { title: "Database", body: "the db" })).entry;
    await callOk(member, "link", { from: a.id, to: b.id, relation: "depends-on" });
    const { items } = await callOk<{ items: unknown[] }>(await client(ws.viewer), "neighbors", { id: b.id });
    expect(items).toEqual([{ direction: "in", relation: "depends-on", id: a.id, title: "API" }]);
    expect(await callError(member, "link", { from: a.id, to: a.id, relation: "self" })).toContain("cannot link to itself");
    expect(await callOk(member, "forget", { id: b.id })).toEqual({ deleted: b.id });
    expect(await callError(member, "get_knowledge", { id: b.id })).toBe("not_found: No such knowledge entry.");
    const audit = await callOk<{ items: { action: string; target: string }[] }>(await client(ws.admin), "audit_tail", { action: "knowledge.*" });
    expect(audit.items.map((row) => [row.action, row.target])).toEqual([
      ["knowledge.delete", b.id],
      ["knowledge.create", b.id],
      ["knowledge.create", a.id],
    ]);
  });
});

describe("sessions, events and artifacts", () => {
  it("writes a session with its rev and answers a stale rev with a tool error naming the current one", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    const first = await callOk<{ session: { rev: number } }>(member, "update_session", { name: "planner", rev: 0, state: { step: 1 } });
    expect(first.session.rev).toBe(1);
    const read = await callOk<{ session: { rev: number; state: unknown } }>(await client(ws.viewer), "get_session", { name: "planner" });
    expect(read.session).toMatchObject({ rev: 1, state: { step: 1 } });
    const conflict = await callError(member, "update_session", { name: "planner", rev: 0, state: { step: 2 } });
    expect(conflict).toBe("rev_conflict: The session is at rev 1; read it again and retry.");
    expect((await callOk<{ session: { state: unknown } }>(member, "get_session", { name: "planner" })).session.state).toEqual({ step: 1 });
  });

  it("publishes events and lists them after a cursor", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    const { event } = await callOk<{ event: { seq: number } }>(member, "publish_event", { type: "build.finished", payload: { ok: true } });
    await callOk(member, "publish_event", { type: "deploy.started" });
    const page = await callOk<{ items: { seq: number; type: string }[]; nextCursor: number }>(await client(ws.viewer), "list_events", { after: event.seq });
    expect(page.items.map((item) => item.type)).toEqual(["deploy.started"]);
    expect(page.nextCursor).toBe(event.seq + 1);
  });

  it("stores and reads artifacts as text or base64", async () => {
    const ws = await workspaceWithTokens();
    const member = await client(ws.member);
    await callOk(member, "put_artifact", { name: "notes.md", content: "# Notes\nhello", mediaType: "text/markdown" });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await callOk(member, "put_artifact", { name: "blob.bin", base64: bytes.toString("base64"), mediaType: "application/octet-stream" });
    const viewer = await client(ws.viewer);
    expect(await callOk(viewer, "get_artifact", { name: "notes.md" })).toMatchObject({ encoding: "utf8", content: "# Notes\nhello", size: 13 });
    const blob = await callOk<{ encoding: string; content: string }>(viewer, "get_artifact", { name: "blob.bin" });
    expect(blob.encoding).toBe("base64");
    expect(Buffer.from(blob.content, "base64")).toEqual(bytes);
    expect(await callError(member, "put_artifact", { name: "x.txt", content: "a", base64: "YQ==" })).toMatch(/^invalid_request/);
    expect(await callError(member, "put_artifact", { name: "x.txt", base64: "not base64!" })).toMatch(/not valid base64/);
    expect(await callError(viewer, "get_artifact", { name: "missing.txt" })).toBe("not_found: No such artifact.");
  });
});

describe("resources", () => {
  it("lists recent entries and reads one as enclave://knowledge/{id}", async () => {
    const ws = await workspaceWithTokens();
    const { entry } = await createKnowledge(await ownerAccess(ws, "knowledge"), { title: "Style guide", body: "Use British spelling.", tags: [] });
    const viewer = await client(ws.viewer);
    const { resourceTemplates } = await viewer.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(["enclave://knowledge/{id}"]);
    const { resources } = await viewer.listResources();
    expect(resources).toEqual([expect.objectContaining({ uri: `enclave://knowledge/${entry.id}`, name: "Style guide" })]);
    const { contents } = await viewer.readResource({ uri: `enclave://knowledge/${entry.id}` });
    expect(contents).toEqual([{ uri: `enclave://knowledge/${entry.id}`, mimeType: "text/markdown", text: "# Style guide\n\nUse British spelling." }]);
    await expect(viewer.readResource({ uri: "enclave://knowledge/kn_00000000000000000000000000000000" })).rejects.toThrow(/No such knowledge entry/);
  });
});

describe("isolation and revocation", () => {
  it("keeps a token to its own workspace: another workspace's entry is not found", async () => {
    const a = await workspaceWithTokens();
    const b = await workspaceWithTokens();
    const inB = await callOk<{ entry: Entry }>(await client(b.member), "remember", { title: "B secret plan", body: "zanzibar" });
    const aClient = await client(a.admin);
    expect(await callError(aClient, "get_knowledge", { id: inB.entry.id })).toBe("not_found: No such knowledge entry.");
    expect(await callOk(aClient, "search", { query: "zanzibar" })).toEqual({ hits: [] });
    expect(await callError(aClient, "forget", { id: inB.entry.id })).toMatch(/^not_found/);
    await expect(aClient.readResource({ uri: inB.entry.uri })).rejects.toThrow(/No such knowledge entry/);
    expect((await getKnowledge(await ownerAccess(b, "search"), inB.entry.id)).title).toBe("B secret plan");
  });

  it("refuses a revoked token on its next call", async () => {
    const ws = await workspaceWithTokens();
    const seen: Response[] = [];
    const member = await client(ws.member, seen);
    await callOk(member, "search", { query: "anything" });
    await revokeTeamToken(await ownerAccess(ws, "tokens"), await teamTokenId(ws.member));
    const refusal = await member.callTool({ name: "search", arguments: { query: "anything" } }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StreamableHTTPError);
    expect((refusal as StreamableHTTPError).code).toBe(401);
    expect(seen.at(-1)?.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  });
});
