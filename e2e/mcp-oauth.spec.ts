import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Page } from "@playwright/test";
import { createWorkspace, expect, PASSWORD, signUp, test, uniqueEmail, watchCsp } from "./fixtures";
import { MemoryOAuthProvider } from "../test/oauth-provider";
import { callbackListener, documentServer, type Listener } from "./oauth-client";

/**
 * What a person does to connect an AI client, end to end: the client (the MCP SDK's own)
 * discovers Enclave from the MCP URL, registers (or names itself by a metadata document),
 * the person approves in Chromium, and the client calls tools with the token it got.
 */
const listeners: Listener[] = [];
test.afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

async function personWithWorkspace(page: Page, name: string): Promise<string> {
  const email = uniqueEmail("mcp");
  await signUp(page, email);
  await createWorkspace(page, name);
  return email;
}

/** The browser half: open the authorization URL, check what the consent page says, approve. */
type Approval = { clientName: string; workspace: string; vouchedBy?: string; signInAs?: string };

async function approveInBrowser(page: Page, provider: MemoryOAuthProvider, callback: Listener, { clientName, workspace, vouchedBy, signInAs }: Approval) {
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
  await expect(page.getByLabel(/Create, edit and delete knowledge/)).toBeChecked();
  await page.getByRole("button", { name: "Approve" }).click();
  const params = await code;
  expect(params.get("iss")).toBe(new URL(page.url()).origin);
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

test("an AI client registers, is approved in the browser, calls tools, refreshes, and is cut off when revoked", async ({ page, baseURL }) => {
  await personWithWorkspace(page, "Agents");
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

  expect(await auth(provider, { serverUrl })).toBe("REDIRECT");
  const code = await approveInBrowser(page, provider, callback, { clientName: "E2E Agent", workspace: "Agents" });
  expect(await auth(provider, { serverUrl, authorizationCode: code })).toBe("AUTHORIZED");

  const client = await connect(serverUrl, provider);
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  expect(tools).toEqual(expect.arrayContaining(["search", "remember", "get_knowledge"]));
  await client.callTool({ name: "remember", arguments: { title: "Deploy runbook", body: "We deploy with blue-green switches." } });
  const found = await client.callTool({ name: "search", arguments: { query: "blue-green" } });
  expect(JSON.stringify(found.structuredContent)).toContain("Deploy runbook");
  await client.close();

  // Refresh: a fresh access token (and a rotated refresh token) that works.
  const before = provider.savedTokens!;
  expect(await auth(provider, { serverUrl })).toBe("AUTHORIZED");
  expect(provider.savedTokens!.access_token).not.toBe(before.access_token);
  const again = await connect(serverUrl, provider);
  expect((await again.callTool({ name: "search", arguments: { query: "runbook" } })).isError).toBeFalsy();
  await again.close();

  // `/mcp/` is the same resource as `/mcp`, answered in place (no redirect).
  const viaSlash = await rawToolsList(`${serverUrl}/`, provider.savedTokens!.access_token);
  expect(viaSlash.status).toBe(200);
  expect(JSON.stringify(await viaSlash.json())).toContain('"name":"search"');

  // The person revokes the client in the portal; its very next request is refused.
  await page.goto("/account/clients");
  const row = page.getByRole("row", { name: /E2E Agent/ });
  await row.getByRole("button", { name: "Revoke E2E Agent" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(page.getByRole("row", { name: /E2E Agent/ })).toHaveCount(0);
  const refused = await rawToolsList(serverUrl, provider.savedTokens!.access_token);
  expect(refused.status).toBe(401);
  expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
});

test("a client identified by a metadata document on loopback https connects the same way, the person signing in on the way", async ({ page, browser, baseURL, cspViolations }) => {
  const email = await personWithWorkspace(page, "Documents");
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
  const code = await approveInBrowser(signedOut, provider, callback, { clientName: "Document Agent", workspace: "Documents", vouchedBy: new URL(clientId).host, signInAs: email });
  expect(await auth(provider, { serverUrl, authorizationCode: code })).toBe("AUTHORIZED");
  const client = await connect(serverUrl, provider);
  const result = await client.callTool({ name: "search", arguments: { query: "anything" } });
  expect(result.isError).toBeFalsy();
  await client.close();
});
