import { randomBytes } from "node:crypto";
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { workspaceStorageBytes } from "@/lib/billing/limits";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { putArtifact } from "@/lib/workspace/artifacts";
import { liveGrant, ownerAccess, userInWorkspace } from "./api";
import { expectPlanLimit, freeWorkspace, rowsOf } from "./billing-limits-fixtures";
import { appFetch, jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { callError, callOk, connectClient } from "./mcp-client";
import { consent, redirectParams, tokenRequest } from "./oauth";
import { MemoryOAuthProvider } from "./oauth-provider";
import { billingEnv, razorpayKeys, startFakeRazorpay, writePlansFile } from "./razorpay";
import { useTempStore } from "./store";

/**
 * The storage and AI-client limits of the free plan (1 MB, 1 client), through REST, MCP and the
 * real OAuth flow; and billing off, where the same requests past those numbers all succeed.
 */
const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());
beforeEach(() => resetRateLimits());

const MB = 1024 * 1024;
const MCP_URL = `${ORIGIN}/mcp`;
const knowledgeIn = (ws: { workspaceId: string; admin: string }, entry: { title: string; body: string }) =>
  request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.admin, body: { ...entry, tags: [] } });
const putBytes = (ws: { workspaceId: string; admin: string }, name: string, bytes: Buffer) =>
  request(workspacePath(ws.workspaceId, `/artifacts/${name}`), { token: ws.admin, method: "PUT", rawBody: new Uint8Array(bytes), headers: { "content-type": "application/octet-stream" } });
const titles = async (ws: { workspaceId: string; admin: string }) =>
  (await jsonOf<{ items: { title: string }[] }>(await request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.admin }))).items.map((entry) => entry.title);

/** A person's client through discovery, registration and consent: the consent's response, the provider, and the authorization URL it consented to. */
async function consentWith(workspaceId: string, cookie: string, provider = new MemoryOAuthProvider()) {
  provider.savedTokens = undefined;
  expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: appFetch })).toBe("REDIRECT");
  const url = provider.authorizationUrl!;
  return { response: await consent(url, cookie, { workspaceId }), provider };
}

/** Redeems the code a consent answered with, as the SDK does. */
async function redeem(response: Response, provider: MemoryOAuthProvider) {
  const code = (await redirectParams(response)).get("code")!;
  return tokenRequest({
    grant_type: "authorization_code",
    code,
    code_verifier: provider.codeVerifier(),
    redirect_uri: provider.redirectUrl,
    client_id: (provider.clientInformation() as { client_id: string }).client_id,
  });
}

describe("billing on: the free plan's storage and AI-client limits", () => {
  useTempStore(billingEnv(keys, fake.url, writePlansFile()));

  it("a write that would pass 1 MB is a 402 on REST and MCP, and is not stored; a small one still is", async () => {
    const ws = await freeWorkspace();
    expect((await knowledgeIn(ws, { title: "small", body: "fits easily" })).status).toBe(201);

    // An artifact bigger than what is left: refused, and not there afterwards.
    await expectPlanLimit(await putBytes(ws, "big.bin", randomBytes(MB)), "storageMb", 1, 1);
    expect((await request(workspacePath(ws.workspaceId, "/artifacts/big.bin"), { token: ws.admin })).status).toBe(404);

    // Fill the workspace to ~100 KB below the limit, then a 200 KB entry would pass it.
    const room = MB - (await workspaceStorageBytes(ws.workspaceId));
    expect((await putBytes(ws, "filler.bin", randomBytes(room - 100 * 1024))).status).toBe(200);
    const before = await workspaceStorageBytes(ws.workspaceId);
    const body = "x".repeat(200 * 1024);
    const refused = await knowledgeIn(ws, { title: "too big for the plan", body });
    await expectPlanLimit(refused, "storageMb", 1, 1);
    expect((await jsonOf(await knowledgeIn(ws, { title: "again", body }))).message).toMatch(/this write would take it past that/);

    const mcp = await connectClient(ws.admin);
    expect(await callError(mcp, "remember", { title: "too big over MCP", body })).toMatch(/^plan_limit: The Free plan allows 1 MB of storage/);
    expect(await callError(mcp, "update_session", { name: "big", rev: 0, state: { text: "y".repeat(200 * 1024) } })).toMatch(/^plan_limit:/);
    // Small writes still fit, on both surfaces.
    expect((await callOk<{ created: boolean }>(mcp, "remember", { title: "small over MCP", body: "still fits" })).created).toBe(true);
    await mcp.close();
    expect((await knowledgeIn(ws, { title: "small again", body: "still fits" })).status).toBe(201);

    expect((await titles(ws)).sort()).toEqual(["small", "small again", "small over MCP"]);
    expect(await workspaceStorageBytes(ws.workspaceId)).toBeLessThan(before + 64 * 1024);

    // Deleting makes room: the pages freed are not counted.
    expect((await request(workspacePath(ws.workspaceId, "/artifacts/filler.bin"), { token: ws.admin, method: "DELETE" })).status).toBe(204);
    expect((await knowledgeIn(ws, { title: "after the clean-up", body })).status).toBe(201);
  });

  it("a second AI client's consent is refused (402) and no code or grant is made; the same client connecting again is not a second", async () => {
    const ws = await freeWorkspace();
    const person = await userInWorkspace(ws.workspaceId, "member");
    const first = await consentWith(ws.workspaceId, person.cookie);
    expect((await redeem(first.response, first.provider)).status).toBe(200);
    expect(await rowsOf("oauth_grants", ws.workspaceId)).toBe(1);

    const codes = await rowsOf("oauth_codes", ws.workspaceId);
    const second = await consentWith(ws.workspaceId, person.cookie);
    await expectPlanLimit(second.response, "aiClients", 1, 1);
    expect(await rowsOf("oauth_codes", ws.workspaceId)).toBe(codes);
    expect(await rowsOf("oauth_grants", ws.workspaceId)).toBe(1);
    // Someone else in the workspace with the first client's registration is another connection too.
    const colleague = await userInWorkspace(ws.workspaceId, "member");
    await expectPlanLimit((await consentWith(ws.workspaceId, colleague.cookie, first.provider)).response, "aiClients", 1, 1);

    // The same person's same client connecting again takes no new place.
    const again = await consentWith(ws.workspaceId, person.cookie, first.provider);
    expect((await redeem(again.response, again.provider)).status).toBe(200);
    expect(await rowsOf("oauth_grants", ws.workspaceId)).toBe(2);
  });

  it("two clients consented while there was room: the token endpoint makes only the first grant", async () => {
    const ws = await freeWorkspace();
    const person = await userInWorkspace(ws.workspaceId, "member");
    const a = await consentWith(ws.workspaceId, person.cookie);
    const b = await consentWith(ws.workspaceId, person.cookie);
    expect((await redeem(a.response, a.provider)).status).toBe(200);
    const refused = await redeem(b.response, b.provider);
    expect(refused.status).toBe(400);
    expect(await jsonOf(refused)).toMatchObject({ error: "invalid_grant", error_description: expect.stringMatching(/^The Free plan allows 1 connected AI client/) as unknown });
    expect(await rowsOf("oauth_grants", ws.workspaceId)).toBe(1);
  });
});

describe("billing off: nothing is counted, nothing refused", () => {
  useTempStore();

  it("past every free-plan number, everything still works", async () => {
    const ws = await freeWorkspace();
    for (const name of ["two", "three"]) expect((await request(workspacePath(ws.workspaceId, "/tokens"), { cookie: ws.ownerCookie, body: { name, role: "viewer" } })).status).toBe(201);
    expect(await rowsOf("team_tokens", ws.workspaceId)).toBe(3);
    for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
      expect((await request(workspacePath(ws.workspaceId, "/members"), { token: ws.admin, body: { email, role: "viewer" } })).status).toBe(201);
    }
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(3);

    expect((await putBytes(ws, "big.bin", randomBytes(2 * MB))).status).toBe(200);
    expect(await workspaceStorageBytes(ws.workspaceId)).toBeGreaterThan(2 * MB);
    expect((await knowledgeIn(ws, { title: "past a megabyte", body: "x".repeat(200 * 1024) })).status).toBe(201);
    const mcp = await connectClient(ws.admin);
    expect((await callOk<{ created: boolean }>(mcp, "remember", { title: "over MCP", body: "fine" })).created).toBe(true);
    await mcp.close();
    await putArtifact(await ownerAccess({ owner: ws.owner, workspaceId: ws.workspaceId }, "artifacts"), "direct.bin", "application/octet-stream", randomBytes(MB));

    await liveGrant({ owner: ws.owner, workspaceId: ws.workspaceId });
    const person = await userInWorkspace(ws.workspaceId, "member");
    const connected = await consentWith(ws.workspaceId, person.cookie);
    expect((await redeem(connected.response, connected.provider)).status).toBe(200);
    expect(await rowsOf("oauth_grants", ws.workspaceId)).toBe(2);
  });

  it("the OpenAPI document names no 402 and no plan", async () => {
    const text = await (await request("/api/v1/openapi.json")).text();
    expect(text).not.toMatch(/"402"|plan_limit|planLimit/);
  });
});
