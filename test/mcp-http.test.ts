import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { oauthTokens } from "@/db/control/schema";
import { issueTeamToken } from "@/lib/access/tokens";
import { mintSecret } from "@/lib/crypto/secrets";
import { parseConfig, setConfigForTests } from "@/lib/config";
import { sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jsonOf, ownerAccess, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { connectClient, mcpRequest, rpc, toolCall } from "./mcp-client";
import { connected, revokeCall } from "./oauth-attack-helpers";
import { testConfig, useTempStore } from "./store";

const INSPECTOR = "https://inspector.example.com";
const env = { ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000", ENCLAVE_BODY_LIMIT_BYTES: "65536", ENCLAVE_MCP_ALLOWED_ORIGINS: INSPECTOR };
const store = useTempStore(env);
beforeEach(() => resetRateLimits());

const METADATA = 'resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp"';
/** What a first challenge asks for: every tool scope a member has, not audit (lib/oauth/resource.ts). */
const FIRST = "search graph events:read knowledge sessionmutations artifacts index events:publish";
type ErrorBody = { error: string; message: string; requestId: string; scope?: string };

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  const body = await jsonOf<ErrorBody>(response);
  expect(body.error).toBe(code);
  expect(body.message).toEqual(expect.any(String));
  expect(body.requestId).toEqual(expect.any(String));
  return body;
}

describe("who may call", () => {
  it("answers a request without a token with 401 pointing at the resource metadata, without error=, asking for a member's tools (not audit, not every scope)", async () => {
    const response = await mcpRequest(rpc("tools/list"));
    await expectError(response, 401, "unauthenticated");
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toBe(`Bearer ${METADATA}, scope="${FIRST}"`);
    expect(challenge).not.toContain("error=");
  });

  it.each([
    ["initialize", rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }), FIRST],
    ["a knowledge write", toolCall("remember", { title: "t", body: "b" }), FIRST],
    ["audit_tail", toolCall("audit_tail"), `${FIRST} audit`],
    ["reading a knowledge resource", rpc("resources/read", { uri: "enclave://knowledge/kn_00000000000000000000000000000000" }), FIRST],
    ["a batch", [toolCall("put_artifact", { name: "a", content: "x" }, 1), toolCall("audit_tail", {}, 2)], `${FIRST} audit`],
    ["a tool that is none of ours", toolCall("rm_rf"), FIRST],
  ])("without a token, 401 asks for a member's tools plus what %s needs, never every scope", async (_what, body, scope) => {
    const response = await mcpRequest(body);
    await expectError(response, 401, "unauthenticated");
    expect(response.headers.get("www-authenticate")).toBe(`Bearer ${METADATA}, scope="${scope}"`);
  });

  it("a body it cannot read changes nothing about the 401: no 400 or 413 before authentication, a member's tools asked for", async () => {
    const big = JSON.stringify(toolCall("remember", { title: "t", body: "x".repeat(70 * 1024) }));
    for (const options of [{ rawBody: "{not json" }, { rawBody: big }, { rawBody: JSON.stringify(toolCall("remember")), headers: { "content-type": "text/plain" } }]) {
      const response = await mcpRequest(undefined, options);
      await expectError(response, 401, "unauthenticated");
      expect(response.headers.get("www-authenticate")).toBe(`Bearer ${METADATA}, scope="${FIRST}"`);
    }
  });

  it("answers an unknown, made-up or malformed token with 401 invalid_token, asking for a member's tools plus what the call needs", async () => {
    for (const authorization of [`Bearer ${mintSecret("teamToken").secret}`, "Bearer enc_at_made-up", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"]) {
      const response = await mcpRequest(rpc("tools/list"), { headers: { authorization } });
      await expectError(response, 401, "invalid_token");
      expect(response.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", ${METADATA}, scope="${FIRST}"`);
      const audit = await mcpRequest(toolCall("audit_tail"), { headers: { authorization } });
      expect(audit.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", ${METADATA}, scope="${FIRST} audit"`);
    }
  });

  it("answers an expired or revoked OAuth token with 401 invalid_token asking for what it held plus what the call needs", async () => {
    const expired = await connected({ scope: "search knowledge" });
    const control = await getControlDb();
    await control.db.update(oauthTokens).set({ expiresAt: Date.now() - 1000 }).where(eq(oauthTokens.tokenHash, sha256Hex(expired.tokens.access_token)));
    const response = await mcpRequest(toolCall("audit_tail"), { token: expired.tokens.access_token });
    await expectError(response, 401, "invalid_token");
    expect(response.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", ${METADATA}, scope="search knowledge audit"`);

    const revoked = await connected({ scope: "graph" });
    expect((await revokeCall(revoked.client, { token: revoked.tokens.refresh_token! })).status).toBe(200);
    const refused = await mcpRequest(toolCall("neighbors", { id: "kn_00000000000000000000000000000000" }), { token: revoked.tokens.access_token });
    await expectError(refused, 401, "invalid_token");
    expect(refused.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", ${METADATA}, scope="graph"`);
  });

  it("does not accept the portal's session cookie", async () => {
    const ws = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(ws.workspaceId, "owner");
    await expectError(await mcpRequest(rpc("tools/list"), { headers: { cookie } }), 401, "unauthenticated");
  });

  it("refuses a token in the URL, even a valid one", async () => {
    const ws = await workspaceWithTokens();
    const response = await mcpRequest(rpc("tools/list"), { query: `?access_token=${ws.admin}` });
    await expectError(response, 400, "token_in_query");
  });

  it("brakes a client that calls too often", async () => {
    setConfigForTests(testConfig(store.dataDir(), { ...env, ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "2" }));
    resetRateLimits();
    const ws = await workspaceWithTokens();
    expect((await mcpRequest(rpc("tools/list"), { token: ws.viewer })).status).toBe(200);
    expect((await mcpRequest(rpc("tools/list"), { token: ws.viewer })).status).toBe(200);
    const limited = await mcpRequest(rpc("tools/list"), { token: ws.viewer });
    await expectError(limited, 429, "rate_limited");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});

describe("step-up: a call beyond the token's scopes", () => {
  it("refuses a viewer's remember with 403 insufficient_scope naming the scope, and changes nothing", async () => {
    const ws = await workspaceWithTokens();
    const before = await snapshotWorkspace(ws.workspaceId);
    const response = await mcpRequest(toolCall("remember", { title: "t", body: "b" }), { token: ws.viewer });
    const body = await expectError(response, 403, "insufficient_scope");
    expect(body.scope).toBe("knowledge");
    expect(body.message).toContain('"knowledge"');
    // The challenge asks for what the token holds plus the one it lacks (step-up keeps the rest).
    expect(response.headers.get("www-authenticate")).toBe(`Bearer error="insufficient_scope", scope="search graph events:read knowledge", ${METADATA}`);
    expect(await snapshotWorkspace(ws.workspaceId)).toBe(before);
  });

  it("reaches the SDK client as an HTTP 403", async () => {
    const ws = await workspaceWithTokens();
    const seen: Response[] = [];
    const viewer = await connectClient(ws.viewer, { seen });
    const refusal = await viewer.callTool({ name: "audit_tail", arguments: {} }).catch((error: unknown) => error);
    expect((refusal as StreamableHTTPError).code).toBe(403);
    expect(seen.at(-1)?.headers.get("www-authenticate")).toContain('scope="search graph events:read audit"');
    await viewer.close();
  });

  it("refuses reading a knowledge resource without search, and a batch with one call too many", async () => {
    const ws = await workspaceWithTokens();
    const { token: graphOnly } = await issueTeamToken(await ownerAccess(ws, "tokens"), { name: "graph", scopes: ["graph"], expiresInDays: 1 });
    const read = await mcpRequest(rpc("resources/read", { uri: "enclave://knowledge/kn_00000000000000000000000000000000" }), { token: graphOnly });
    expect((await expectError(read, 403, "insufficient_scope")).scope).toBe("search");
    const batch = await mcpRequest([toolCall("search", { query: "x" }, 1), toolCall("publish_event", { type: "x" }, 2), toolCall("remember", { title: "t", body: "b" }, 3)], { token: ws.viewer });
    expect((await expectError(batch, 403, "insufficient_scope")).scope).toBe("events:publish");
    // The challenge asks for all the batch needs at once, beside what is held.
    expect(batch.headers.get("www-authenticate")).toBe(`Bearer error="insufficient_scope", scope="search graph events:read knowledge events:publish", ${METADATA}`);
  });

  it("leaves an unknown tool to the SDK, which answers with a tool error", async () => {
    const ws = await workspaceWithTokens();
    const response = await mcpRequest(toolCall("drop_tables"), { token: ws.admin });
    expect(response.status).toBe(200);
    const { result } = await jsonOf<{ result: { isError: boolean; content: { text: string }[] } }>(response);
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain("drop_tables not found");
  });
});

describe("DNS rebinding and browsers", () => {
  it("answers another Host with 421 before looking at the token", async () => {
    const ws = await workspaceWithTokens();
    for (const host of ["evil.example", "localhost:3001", "localhost:3000@evil.example", "127.0.0.1:3000"]) {
      await expectError(await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: { host } }), 421, "misdirected_request");
    }
    expect((await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: { host: "LOCALHOST:3000" } })).status).toBe(200);
  });

  it("reads X-Forwarded-Host only behind a trusted proxy", async () => {
    const ws = await workspaceWithTokens();
    const forwarded = { host: "10.0.0.5:8080", "x-forwarded-host": "localhost:3000" };
    await expectError(await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: forwarded }), 421, "misdirected_request");
    setConfigForTests(testConfig(store.dataDir(), { ...env, ENCLAVE_TRUST_PROXY: "true" }));
    expect((await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: forwarded })).status).toBe(200);
    const spoofed = { host: "localhost:3000", "x-forwarded-host": "evil.example" };
    await expectError(await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: spoofed }), 421, "misdirected_request");
  });

  it("refuses a foreign Origin with 403 and no CORS headers", async () => {
    const ws = await workspaceWithTokens();
    for (const origin of ["https://evil.example", "null", "http://localhost:3001"]) {
      const response = await mcpRequest(rpc("tools/list"), { token: ws.admin, headers: { origin } });
      await expectError(response, 403, "forbidden_origin");
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("serves an allowed origin with CORS headers, refusals included", async () => {
    const ws = await workspaceWithTokens();
    const ok = await mcpRequest(rpc("tools/list"), { token: ws.viewer, headers: { origin: INSPECTOR } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(INSPECTOR);
    expect(ok.headers.get("vary")).toContain("Origin");
    expect(ok.headers.get("access-control-expose-headers")).toBe("WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version");
    const refused = await mcpRequest(rpc("tools/list"), { headers: { origin: INSPECTOR } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(INSPECTOR);
    const sameOrigin = await mcpRequest(rpc("tools/list"), { token: ws.viewer, headers: { origin: "http://localhost:3000" } });
    expect(sameOrigin.status).toBe(200);
  });

  it("answers the preflight of an allowed origin, and refuses a foreign one", async () => {
    const preflight = { "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-protocol-version" };
    const response = await mcpRequest(undefined, { method: "OPTIONS", headers: { origin: INSPECTOR, ...preflight } });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(INSPECTOR);
    expect(response.headers.get("access-control-allow-methods")).toBe("POST, GET, DELETE, OPTIONS");
    expect(response.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID");
    expect(response.headers.get("vary")).toContain("Origin");
    const foreign = await mcpRequest(undefined, { method: "OPTIONS", headers: { origin: "https://evil.example", ...preflight } });
    await expectError(foreign, 403, "forbidden_origin");
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the transport", () => {
  it("answers GET and DELETE with 405 in the JSON error shape: no stream, no session", async () => {
    const ws = await workspaceWithTokens();
    for (const method of ["GET", "DELETE"]) {
      const response = await mcpRequest(undefined, { method, token: ws.admin });
      await expectError(response, 405, "method_not_allowed");
      expect(response.headers.get("allow")).toBe("POST, OPTIONS");
    }
  });

  it("answers an unsupported MCP-Protocol-Version with 400", async () => {
    const ws = await workspaceWithTokens();
    const response = await mcpRequest(rpc("tools/list"), { token: ws.viewer, headers: { "mcp-protocol-version": "1999-01-01" } });
    expect((await expectError(response, 400, "unsupported_protocol_version")).message).toContain("2025-11-25");
  });

  it("refuses a body over the limit with 413, bad JSON with 400, and a non-JSON type with 415", async () => {
    const ws = await workspaceWithTokens();
    const big = toolCall("remember", { title: "big", body: "x".repeat(70_000) });
    await expectError(await mcpRequest(big, { token: ws.member }), 413, "payload_too_large");
    await expectError(await mcpRequest(undefined, { token: ws.member, rawBody: '{"jsonrpc": "2.0", ' }), 400, "malformed_json");
    await expectError(await mcpRequest(rpc("tools/list"), { token: ws.member, headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
  });

  it("answers a notification with 202 and no body, and a stale session id is ignored", async () => {
    const ws = await workspaceWithTokens();
    const response = await mcpRequest({ jsonrpc: "2.0", method: "notifications/initialized" }, { token: ws.viewer, headers: { "mcp-session-id": "stale" } });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
    expect(response.headers.get("mcp-session-id")).toBeNull();
  });

  it("creates no session on initialize and sends no store-able response", async () => {
    const ws = await workspaceWithTokens();
    const init = rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } });
    const response = await mcpRequest(init, { token: ws.viewer, headers: { "mcp-protocol-version": "" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toMatchObject({ result: { protocolVersion: "2025-11-25", serverInfo: { name: "enclave" }, capabilities: { tools: {}, resources: {} } } });
  });
});

describe("capabilities", () => {
  it("initialize advertises tools and resources without listChanged: a stateless server can never send those notifications", async () => {
    const ws = await workspaceWithTokens();
    const graphOnly = await connected({ scope: "graph" });
    // An admin (every tool and the knowledge resources), a viewer, and a token that unlocks no resource.
    for (const token of [ws.admin, ws.viewer, graphOnly.tokens.access_token]) {
      const client = await connectClient(token);
      expect(client.getServerCapabilities()).toEqual({ tools: { listChanged: false }, resources: { listChanged: false } });
      await client.close();
    }
  });
});

describe("ENCLAVE_MCP_ALLOWED_ORIGINS", () => {
  it("normalises a comma-separated list of origins and refuses anything else, naming the variable", () => {
    expect(parseConfig({}).ENCLAVE_MCP_ALLOWED_ORIGINS).toEqual([]);
    const parsed = parseConfig({ ENCLAVE_MCP_ALLOWED_ORIGINS: " https://Inspector.example.com , http://localhost:6274/ ," });
    expect(parsed.ENCLAVE_MCP_ALLOWED_ORIGINS).toEqual(["https://inspector.example.com", "http://localhost:6274"]);
    for (const bad of ["*", "null", "inspector.example.com", "https://a.example/path", "ftp://a.example", "https://user:pw@a.example"]) { // enclave-scan: allow
      expect(() => parseConfig({ ENCLAVE_MCP_ALLOWED_ORIGINS: bad }), bad).toThrow(/ENCLAVE_MCP_ALLOWED_ORIGINS/);
    }
  });
});
