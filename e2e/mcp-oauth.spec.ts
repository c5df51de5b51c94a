import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Page } from "@playwright/test";
import { createWorkspace, expect, PASSWORD, signUp, test, uniqueEmail, watchCsp, workspaceIdFrom } from "./fixtures";
import { MemoryOAuthProvider } from "../test/oauth-provider";
import { callbackListener, documentServer, type Listener } from "./oauth-client";

/**
 * What a person does to connect an AI client, end to end: the client (the MCP SDK's own)
 * discovers Enclave from the MCP URL, registers (or names itself by a metadata document),
 * the person approves in Chromium, and the client calls tools with the token it got. The
 * server runs with 5-second access tokens (playwright.config.ts), so refreshing is exercised.
 */
const listeners: Listener[] = [];
test.afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

async function personWithWorkspace(page: Page, name: string): Promise<{ email: string; workspaceId: string }> {
  const email = uniqueEmail("mcp");
  await signUp(page, email);
  return { email, workspaceId: workspaceIdFrom(await createWorkspace(page, name)) };
}

/** The browser half: open the authorization URL, check what the consent page says, approve. */
type Approval = { clientName: string; workspace: string; vouchedBy?: string; signInAs?: string; asksTo: RegExp };

async function approveInBrowser(page: Page, provider: MemoryOAuthProvider, callback: Listener, { clientName, workspace, vouchedBy, signInAs, asksTo }: Approval) {
  const code = callback.nextCallback();
  await page.goto(provider.authorizationUrl!.toString());
  if (signInAs) {
    // Not signed in yet: sign-in first, then straight back to this consent page.
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await page.getByLabel("Email").fill(signInAs);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("heading", { name: `Connect “${clientName}”?` })).toBeVisible();
  await expect(page.getByText(vouchedBy ? `published by ${vouchedBy}` : "has not verified it")).toBeVisible();
  await expect(page.getByRole("note")).toContainText("on your own computer");
  await page.getByLabel("Workspace", { exact: true }).selectOption({ label: `${workspace} (owner)` });
  await expect(page.getByLabel(asksTo)).toBeChecked();
  // It registered the refresh_token grant, so it will stay connected, and the page says so.
  await expect(page.getByText("It also asks to stay connected")).toBeVisible();
  await page.getByRole("button", { name: "Approve" }).click();
  const params = await code;
  // The issuer is the server the authorization URL points at (RFC 9207). Not page.url(): by now
  // the browser may already be on the client's callback.
  expect(params.get("iss")).toBe(new URL(provider.authorizationUrl!).origin);
  return params.get("code")!;
}

/** One JSON-RPC call without the SDK, to see the HTTP answer itself. */
const rawToolsList = (url: string, token: string) =>
  fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });

async function connect(serverUrl: string, provider: MemoryOAuthProvider) {
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
  return client;
}

/** `fetch` for the SDK's transport that notes each POST and its answer (`/mcp 401`, `/oauth/token 200`). */
function recordingFetch(trail: string[]) {
  return async (input: string | URL, init?: RequestInit) => {
    const response = await fetch(input, init);
    if (init?.method === "POST") trail.push(`${new URL(String(input)).pathname} ${response.status}`);
    return response;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("an AI client follows the 401 challenge to the browser, calls tools, refreshes by itself once its access token expires, and is cut off when revoked", async ({ page, baseURL }) => {
  const { workspaceId } = await personWithWorkspace(page, "Agents");
  const written = await page.request.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "Deploy runbook", body: "We deploy with blue-green switches." } });
  expect(written.status()).toBe(201);
  const callback = await callbackListener();
  listeners.push(callback);
  const serverUrl = `${baseURL}/mcp`;
  const provider = new MemoryOAuthProvider({
    client_name: "E2E Agent",
    redirect_uris: [`${callback.origin}/callback`],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  });
  const trail: string[] = [];
  const transport = () => new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider, fetch: recordingFetch(trail) });

  // No token: /mcp answers 401, and the SDK registers and sends the person to consent for the challenge's scope (a member's tools, not audit).
  const first = transport();
  await expect(new Client({ name: "e2e", version: "1.0.0" }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(trail[0]).toBe("/mcp 401");
  expect(provider.authorizationUrl!.searchParams.get("scope")).toBe("search graph events:read knowledge sessionmutations artifacts index events:publish");
  const code = await approveInBrowser(page, provider, callback, { clientName: "E2E Agent", workspace: "Agents", asksTo: /Read and search knowledge/ });
  await first.finishAuth(code);
  const issued = provider.savedTokens!;
  expect(issued.refresh_token).toMatch(/^enc_rt_/);
  expect(issued.expires_in).toBe(5);

  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(transport());
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  expect(tools).toEqual(expect.arrayContaining(["search", "get_knowledge", "neighbors", "list_events", "remember"]));
  expect(tools).not.toContain("audit_tail");
  const remembered = await client.callTool({ name: "remember", arguments: { title: "Rollback plan", body: "Flip the blue-green switch back." } });
  expect(remembered.isError).toBeFalsy();
  const found = await client.callTool({ name: "search", arguments: { query: "blue-green" } });
  expect(JSON.stringify(found.structuredContent)).toContain("Deploy runbook");

  // Past the access token's life: the next call is refused, the SDK refreshes by itself, and the call goes through.
  const before = provider.savedTokens!;
  await sleep((before.expires_in! + 1) * 1000);
  trail.length = 0;
  const later = await client.callTool({ name: "search", arguments: { query: "runbook" } });
  expect(later.isError).toBeFalsy();
  expect(JSON.stringify(later.structuredContent)).toContain("Deploy runbook");
  expect(trail).toEqual(["/mcp 401", "/oauth/token 200", "/mcp 200"]);
  const refreshed = provider.savedTokens!;
  expect(refreshed.access_token).not.toBe(before.access_token);
  expect(refreshed.refresh_token).toMatch(/^enc_rt_/);
  expect(refreshed.refresh_token).not.toBe(before.refresh_token);
  await client.close();

  // `/mcp/` is the same resource as `/mcp`, answered in place (no redirect).
  const viaSlash = await rawToolsList(`${serverUrl}/`, refreshed.access_token);
  expect(viaSlash.status).toBe(200);
  expect(JSON.stringify(await viaSlash.json())).toContain('"name":"search"');

  // The person revokes the client in the portal: its tokens are refused, the refresh token included.
  await page.goto("/account/clients");
  const row = page.getByRole("row", { name: /E2E Agent/ });
  await row.getByRole("button", { name: "Revoke E2E Agent" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(page.getByRole("row", { name: /E2E Agent/ })).toHaveCount(0);
  const refused = await rawToolsList(serverUrl, refreshed.access_token);
  expect(refused.status).toBe(401);
  expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
  const noRefresh = await fetch(`${baseURL}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshed.refresh_token!, client_id: provider.information!.client_id }).toString(),
  });
  expect(noRefresh.status).toBe(400);
  expect(((await noRefresh.json()) as { error: string }).error).toBe("invalid_grant");
});

test("a client identified by a metadata document on loopback https connects the same way, the person signing in on the way", async ({ page, browser, baseURL, cspViolations }) => {
  const { email } = await personWithWorkspace(page, "Documents");
  const callback = await callbackListener();
  const documents = new Map<string, unknown>();
  const publisher = await documentServer(documents);
  listeners.push(callback, publisher);
  const clientId = `${publisher.origin}/oauth/client.json`;
  const metadata = {
    client_name: "Document Agent",
    redirect_uris: [`${callback.origin}/callback`],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
  documents.set("/oauth/client.json", { client_id: clientId, ...metadata });
  const provider = new MemoryOAuthProvider(metadata, clientId);
  const serverUrl = `${baseURL}/mcp`;

  expect(await auth(provider, { serverUrl })).toBe("REDIRECT");
  expect(provider.authorizationUrl!.searchParams.get("client_id")).toBe(clientId);
  const signedOut = await (await browser.newContext()).newPage();
  watchCsp(signedOut, cspViolations);
  // auth() called directly, without a challenge, asks for everything the resource metadata lists.
  const code = await approveInBrowser(signedOut, provider, callback, {
    clientName: "Document Agent",
    workspace: "Documents",
    vouchedBy: new URL(clientId).host,
    signInAs: email,
    asksTo: /Create, edit and delete knowledge/,
  });
  expect(await auth(provider, { serverUrl, authorizationCode: code })).toBe("AUTHORIZED");
  const client = await connect(serverUrl, provider);
  const result = await client.callTool({ name: "search", arguments: { query: "anything" } });
  expect(result.isError).toBeFalsy();
  await client.close();
});
