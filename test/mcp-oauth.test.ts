import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import * as mcpRoute from "@/app/mcp/route";
import { memberships } from "@/db/control/schema";
import type { OAuthScope } from "@/lib/oauth/resource";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { resolveOAuthAccessToken } from "@/lib/oauth/access-tokens";
import { toolScopes } from "@/lib/mcp/tools";
import { getKnowledge } from "@/lib/workspace/knowledge";
import { jsonOf, userInWorkspace, workspaceWithTokens } from "./api";
import { ORIGIN } from "./http";
import { callOk, mcpRequest, rpc, toolCall } from "./mcp-client";
import { MemoryOAuthProvider } from "./oauth-provider";
import { consent, inProcessFetch, mountRoute, redirectParams } from "./oauth";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());
mountRoute("/mcp", mcpRoute);

const MCP_URL = `${ORIGIN}/mcp`;

// Next hands a route the Host the client sent; a Request built in a test has none unless given one.
const fetchWithHost = (input: string | URL, init?: RequestInit) => {
  const headers = new Headers(init?.headers);
  headers.set("host", new URL(ORIGIN).host);
  return inProcessFetch(input, { ...init, headers });
};

const toolsFor = (scopes: readonly string[]) =>
  Object.entries(toolScopes)
    .filter(([, scope]) => scopes.includes(scope))
    .map(([name]) => name)
    .sort();

/** An access token through the real flow (discovery, registration, consent, code + PKCE) for what the person ticks. */
async function oauthAccessToken(workspaceId: string, cookie: string, scopes?: OAuthScope[]) {
  const provider = new MemoryOAuthProvider();
  expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: fetchWithHost })).toBe("REDIRECT");
  const back = await redirectParams(await consent(provider.authorizationUrl!, cookie, { workspaceId, scopes }));
  expect(await auth(provider, { serverUrl: MCP_URL, authorizationCode: back.get("code")!, fetchFn: fetchWithHost })).toBe("AUTHORIZED");
  const token = provider.savedTokens!.access_token;
  const principal = await resolveOAuthAccessToken(token, MCP_URL);
  return { token, grantId: principal!.grantId };
}

async function setRole(workspaceId: string, userId: string, role: "viewer" | null) {
  const control = await getControlDb();
  const member = and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId));
  if (role) await control.db.update(memberships).set({ role }).where(member);
  else await control.db.delete(memberships).where(member);
}

describe("OAuth clients on /mcp", () => {
  it("lets the SDK's client follow the 401 challenge to consent, then see and call only what was consented", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const provider = new MemoryOAuthProvider();
    const transport = () => new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: fetchWithHost });

    const first = transport();
    await expect(new Client({ name: "agent", version: "1" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.searchParams.get("resource")).toBe(MCP_URL);
    // The scope the challenge named is what the client asked the person for.
    expect(authorizationUrl.searchParams.get("scope")?.split(" ")).toEqual(expect.arrayContaining(["search", "knowledge", "audit"]));

    const consented: OAuthScope[] = ["search", "graph", "events:read", "knowledge"];
    const back = await redirectParams(await consent(authorizationUrl, cookie, { workspaceId, scopes: consented }));
    await first.finishAuth(back.get("code")!);
    const client = new Client({ name: "agent", version: "1" });
    await client.connect(transport());
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(toolsFor(consented));
    const { entry } = await callOk<{ entry: { id: string } }>(client, "remember", { title: "From an agent", body: "hello" });
    const { grantId } = (await resolveOAuthAccessToken(provider.savedTokens!.access_token, MCP_URL))!;
    expect((await getKnowledge(workspaceId, entry.id)).author).toBe(`oauth:${grantId}`);
    await client.close();
  });

  it("challenges a call outside the consented scopes with 403 naming the scope to step up to", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "admin");
    const { token } = await oauthAccessToken(workspaceId, cookie, ["search"]);
    const response = await mcpRequest(toolCall("remember", { title: "t", body: "b" }), { token });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", scope="search knowledge", resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await jsonOf(response)).toMatchObject({ error: "insufficient_scope", scope: "knowledge" });
  });

  it("caps a client by its person's current role, and refuses it once they leave the workspace", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { user, cookie } = await userInWorkspace(workspaceId, "member");
    const { token } = await oauthAccessToken(workspaceId, cookie);
    const tools = async () => ((await jsonOf<{ result: { tools: { name: string }[] } }>(await mcpRequest(rpc("tools/list"), { token }))).result.tools.map((t) => t.name).sort());
    expect(await tools()).toContain("remember");

    await setRole(workspaceId, user.id, "viewer");
    expect(await tools()).toEqual(toolsFor(["search", "graph", "events:read"]));
    expect((await mcpRequest(toolCall("remember", { title: "t", body: "b" }), { token })).status).toBe(403);

    await setRole(workspaceId, user.id, null);
    const refused = await mcpRequest(rpc("tools/list"), { token });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  });
});
