import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { memberships, oauthCodes } from "@/db/control/schema";
import { authorize, workspaceGrant } from "@/lib/access/authorize";
import { resolveSession } from "@/lib/auth/sessions";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { resolveOAuthAccessToken } from "@/lib/access/bearer";
import { checkAuthorizationRequest, type AuthorizationCheck } from "@/lib/oauth/authorization-request";
import { consentFormToken } from "@/lib/oauth/consent";
import { sessionCookieForUser, userInWorkspace, workspaceWithTokens } from "./api";
import { ORIGIN, request, workspacePath } from "./harness";
import { CALLBACK_URL } from "./oauth-provider";
import { consent, redirectParams } from "./oauth";
import {
  auditRows,
  authorizeUrl,
  connected,
  MCP_URL,
  pkce,
  postDecision,
  principalOf,
  redeem,
  refusal,
  registeredClient,
  tokenCall,
  WEB_CALLBACK,
  type RegisteredClient,
  type Tokens,
} from "./oauth-attack-helpers";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

async function codeCount(): Promise<number> {
  const control = await getControlDb();
  return (await control.db.select({ hash: oauthCodes.codeHash }).from(oauthCodes)).length;
}

const cookieValue = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1);

/** The form token the consent page would render for `url` to the holder of `cookie`. */
async function renderedFormToken(url: URL, cookie: string): Promise<string> {
  const check = await checkAuthorizationRequest(url.searchParams);
  const signedIn = await resolveSession(cookieValue(cookie));
  if (!check.ok || !signedIn) throw new Error("cannot render the consent page");
  return consentFormToken(signedIn, check.request);
}

function expectPageError(check: AuthorizationCheck) {
  expect(check).toMatchObject({ ok: false, redirect: false });
  expect(JSON.stringify(check)).not.toContain("location");
}

function expectClientError(check: AuthorizationCheck, error: string, base = WEB_CALLBACK) {
  if (check.ok || !check.redirect) throw new Error(`expected a redirect, got ${JSON.stringify(check)}`);
  const location = new URL(check.location);
  expect(`${location.origin}${location.pathname}`).toBe(base);
  expect(location.searchParams.get("error")).toBe(error);
  expect(location.searchParams.get("state")).toBe("st-1");
  expect(location.searchParams.get("iss")).toBe(ORIGIN);
  expect(location.searchParams.get("code")).toBeNull();
}

describe("authorization request: before the redirect URI is trusted, errors stay on our page", () => {
  let client: RegisteredClient;
  let challenge: string;
  beforeEach(async () => {
    client = await registeredClient();
    challenge = pkce().challenge;
  });

  it("an unknown client_id", async () => {
    expectPageError(await checkAuthorizationRequest(authorizeUrl("cli_00000000000000000000000000000000", challenge).searchParams));
    expectPageError(await checkAuthorizationRequest(authorizeUrl("", challenge).searchParams));
  });

  it.each([
    ["a trailing slash", `${WEB_CALLBACK}/`],
    ["another case in the path", "https://app.example.com/CB"],
    ["another case in the host", "https://APP.example.com/cb"],
    ["an extra query", `${WEB_CALLBACK}?next=https://evil.example`],
    ["another host", "https://evil.example/cb"],
    ["a look-alike host", "https://app.example.com.evil.example/cb"],
    ["credentials in the URL", "https://app.example.com@evil.example/cb"],
    ["a fragment", `${WEB_CALLBACK}#x`],
    ["http instead of https", "http://app.example.com/cb"],
    ["another port", "https://app.example.com:8443/cb"],
    ["javascript:", "javascript:alert(document.cookie)"],
  ])("a redirect_uri with %s", async (_what, redirectUri) => {
    // Even with every later check failing too: the error must not be sent to the unregistered URI.
    expectPageError(await checkAuthorizationRequest(authorizeUrl(client.client_id, challenge, { redirect_uri: redirectUri }).searchParams));
    expectPageError(await checkAuthorizationRequest(authorizeUrl(client.client_id, "", { redirect_uri: redirectUri, response_type: "token" }).searchParams));
  });

  it("a missing redirect_uri when more than one is registered", async () => {
    const two = await registeredClient({ redirect_uris: [WEB_CALLBACK, "https://app.example.com/other"] });
    expectPageError(await checkAuthorizationRequest(authorizeUrl(two.client_id, challenge, { redirect_uri: null }).searchParams));
  });

  it.each(["client_id", "redirect_uri", "state", "scope", "code_challenge", "resource"])("a duplicated %s", async (name) => {
    const url = authorizeUrl(client.client_id, challenge);
    url.searchParams.append(name, url.searchParams.get(name) ?? "x");
    expectPageError(await checkAuthorizationRequest(url.searchParams));
  });

  it("a page error is never turned into a redirect by the consent POST either", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const url = authorizeUrl(client.client_id, challenge, { redirect_uri: "https://evil.example/cb" });
    const response = await postDecision({ query: url.searchParams.toString(), formToken: "x", approve: true, workspaceId, scopes: ["search"] }, { cookie });
    expect(response.status).toBe(400);
    const body = JSON.stringify(await response.json());
    expect(body).not.toContain("redirectTo");
    expect(await codeCount()).toBe(0);
  });
});

describe("authorization request: loopback redirect URIs (RFC 8252 §7.3)", () => {
  it("match on any port but nothing else", async () => {
    const native = await registeredClient({ redirect_uris: [CALLBACK_URL] });
    const { challenge } = pkce();
    const check = (redirectUri: string) => checkAuthorizationRequest(authorizeUrl(native.client_id, challenge, { redirect_uri: redirectUri }).searchParams);
    expect(await check("http://127.0.0.1:50123/callback")).toMatchObject({ ok: true, request: { redirectUri: "http://127.0.0.1:50123/callback" } });
    expect(await check("http://127.0.0.1/callback")).toMatchObject({ ok: true });
    for (const other of ["http://127.0.0.1:43117/other", "http://127.0.0.1:43117/callback/", "http://localhost:43117/callback", "http://127.0.0.1:43117/callback?x=1", "http://127.0.0.1.evil.example:43117/callback", "http://127.0.0.1:43117@evil.example/callback"]) { // enclave-scan: allow
      expectPageError(await check(other));
    }
  });

  it("a registered http://127.0.0.1 (no path) matches http://127.0.0.1:54321/: an empty path is `/`, and any port goes", async () => {
    const bare = await registeredClient({ redirect_uris: ["http://127.0.0.1"] });
    const slashed = await registeredClient({ redirect_uris: ["http://localhost:8080/"] });
    const v6 = await registeredClient({ redirect_uris: ["http://[::1]"] });
    const { challenge } = pkce();
    const check = (client: RegisteredClient, redirectUri: string) => checkAuthorizationRequest(authorizeUrl(client.client_id, challenge, { redirect_uri: redirectUri }).searchParams);
    for (const [client, requested] of [
      [bare, "http://127.0.0.1:54321/"],
      [bare, "http://127.0.0.1:54321"],
      [bare, "http://127.0.0.1/"],
      [slashed, "http://localhost"],
      [slashed, "http://localhost:61000"],
      [v6, "http://[::1]:54321/"],
    ] as const) {
      expect(await check(client, requested), requested).toMatchObject({ ok: true, request: { redirectUri: requested } });
    }
  });

  it("loopback matching loosens nothing else: other hosts, https, paths, queries, fragments and private-use schemes stay exact", async () => {
    const bare = await registeredClient({ redirect_uris: ["http://127.0.0.1"] });
    const { challenge } = pkce();
    const check = (client: RegisteredClient, redirectUri: string) => checkAuthorizationRequest(authorizeUrl(client.client_id, challenge, { redirect_uri: redirectUri }).searchParams);
    for (const other of [
      "http://127.0.0.1:54321/callback",
      "http://127.0.0.1:54321//",
      "http://127.0.0.1:54321/?x=1",
      "http://127.0.0.1:54321?x=1",
      "http://127.0.0.1:54321/#x",
      "http://127.0.0.1:/",
      "http://localhost:54321/",
      "http://[::1]:54321/",
      "https://127.0.0.1:54321/",
      "HTTP://127.0.0.1:54321/",
      "http://127.0.0.2:54321/",
      "http://127.0.0.1.evil.example/",
      "http://127.0.0.1:54321@evil.example/", // enclave-scan: allow
      "http://127.0.0.1:54321\\@evil.example/", // enclave-scan: allow
      "http://127.0.0.1:99999/",
    ]) {
      expectPageError(await check(bare, other));
    }
    const exact = [
      ["https://app.example.com", "https://app.example.com/"],
      ["https://app.example.com/", "https://app.example.com"],
      ["https://127.0.0.1/cb", "https://127.0.0.1:8443/cb"],
      ["https://localhost", "https://localhost/"],
      ["cursor://anysphere.cursor-retrieval/cb", "cursor://anysphere.cursor-retrieval/cb/"],
      ["com.example.app:/cb", "com.example.app:/cb/"],
    ];
    for (const [registered, requested] of exact) {
      const client = await registeredClient({ redirect_uris: [registered] });
      expectPageError(await check(client, requested!));
      expect(await check(client, registered!)).toMatchObject({ ok: true });
    }
  });

  it("a loopback code is redeemed with the redirect_uri it was issued for, exactly (not an equivalent spelling)", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const bare = await registeredClient({ redirect_uris: ["http://127.0.0.1"] });
    const redeemWith = async (redirectUri: string) => {
      const { verifier, challenge } = pkce();
      const back = await redirectParams(await consent(authorizeUrl(bare.client_id, challenge, { redirect_uri: "http://127.0.0.1:54321/" }), cookie, { workspaceId }));
      return tokenCall(bare, { grant_type: "authorization_code", code: back.get("code"), code_verifier: verifier, redirect_uri: redirectUri });
    };
    expect((await redeemWith("http://127.0.0.1:54321/")).status).toBe(200);
    for (const other of ["http://127.0.0.1:54321", "http://127.0.0.1", "http://127.0.0.1:54322/"]) {
      expect(await refusal(await redeemWith(other)), other).toEqual({ status: 400, error: "invalid_grant" });
    }
  });

  // 99999 matches "any port" textually, but is no URL: nothing can be redirected there.
  const NO_PORT = "http://127.0.0.1:99999/callback";

  it("a port that is not a port is refused on our page", async () => {
    const native = await registeredClient({ redirect_uris: [CALLBACK_URL] });
    const bad = authorizeUrl(native.client_id, pkce().challenge, { redirect_uri: NO_PORT });
    expectPageError(await checkAuthorizationRequest(bad.searchParams));
    bad.searchParams.delete("code_challenge");
    expectPageError(await checkAuthorizationRequest(bad.searchParams));
  });

  it("a port that is not a port: the consent POST answers 400, not 500, and stores no code", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const native = await registeredClient({ redirect_uris: [CALLBACK_URL] });
    const bad = authorizeUrl(native.client_id, pkce().challenge, { redirect_uri: NO_PORT });
    const formToken = await renderedFormToken(bad, cookie).catch(() => "unrenderable");
    const approved = await postDecision({ query: bad.searchParams.toString(), formToken, approve: true, workspaceId, scopes: ["search"] }, { cookie });
    expect(approved.status).toBe(400);
    bad.searchParams.delete("code_challenge");
    const failing = await postDecision({ query: bad.searchParams.toString(), formToken, approve: true, workspaceId, scopes: ["search"] }, { cookie });
    expect(failing.status).toBe(400);
    expect(await codeCount()).toBe(0);
  });
});

describe("authorization request: once the redirect URI is trusted, errors go back to the client", () => {
  let client: RegisteredClient;
  let challenge: string;
  beforeEach(async () => {
    client = await registeredClient();
    challenge = pkce().challenge;
  });
  const check = (params: Record<string, string | null>) => checkAuthorizationRequest(authorizeUrl(client.client_id, challenge, params).searchParams);

  it("without PKCE", async () => expectClientError(await check({ code_challenge: null }), "invalid_request"));
  it("with PKCE method plain", async () => expectClientError(await check({ code_challenge_method: "plain" }), "invalid_request"));
  it("with no PKCE method", async () => expectClientError(await check({ code_challenge_method: null }), "invalid_request"));
  it("with a challenge that is no SHA-256", async () => expectClientError(await check({ code_challenge: "short" }), "invalid_request"));
  it("with response_type=token", async () => expectClientError(await check({ response_type: "token" }), "unsupported_response_type"));
  it("with response_type missing", async () => expectClientError(await check({ response_type: null }), "unsupported_response_type"));
  it.each(["https://evil.example/mcp", `${ORIGIN}/api`, `${ORIGIN}/mcp/../api`, "http://localhost:3001/mcp"])("for the resource %s", async (resource) =>
    expectClientError(await check({ resource }), "invalid_target"),
  );

  it("a state that tries to smuggle parameters comes back as one opaque value", async () => {
    const state = "x&code=injected&iss=https://evil.example#frag";
    const result = await check({ state, code_challenge: null });
    if (result.ok || !result.redirect) throw new Error("expected a redirect");
    const location = new URL(result.location);
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.getAll("code")).toEqual([]);
    expect(location.searchParams.getAll("iss")).toEqual([ORIGIN]);
    expect(location.hash).toBe("");
  });

  it("drops unknown scopes (openid claudeai) rather than failing", async () => {
    expect(await check({ scope: "openid claudeai" })).toMatchObject({ ok: true, request: { scopes: ["search", "graph", "events:read"] } });
    expect(await check({ scope: "openid claudeai knowledge offline_access" })).toMatchObject({ ok: true, request: { scopes: ["knowledge"] } });
  });

  it("stays connected (a refresh token, said on the consent page) when the client registered refresh_token, whether or not it sent offline_access", async () => {
    for (const scope of ["search", "search offline_access"]) expect(await check({ scope })).toMatchObject({ ok: true, request: { offlineAccess: true } });
    const codeOnly = await registeredClient({ grant_types: ["authorization_code"] });
    const checkCodeOnly = (scope: string) => checkAuthorizationRequest(authorizeUrl(codeOnly.client_id, challenge, { scope }).searchParams);
    for (const scope of ["search", "search offline_access"]) expect(await checkCodeOnly(scope)).toMatchObject({ ok: true, request: { offlineAccess: false } });
  });

  it("never offers portal-only powers, whatever is asked", async () => {
    const result = await check({ scope: "members tokens settings clients billing ownership workspace:delete" });
    expect(result).toMatchObject({ ok: true, request: { scopes: ["search", "graph", "events:read"] } });
  });
});

describe("consent: forged and replayed answers", () => {
  async function setUp() {
    const { workspaceId } = await workspaceWithTokens();
    const { user, cookie } = await userInWorkspace(workspaceId, "member");
    const client = await registeredClient();
    const url = authorizeUrl(client.client_id, pkce().challenge);
    return { workspaceId, user, cookie, client, url };
  }
  const answer = (url: URL, formToken: string, workspaceId: string, scopes = ["search", "knowledge"]) => ({ query: url.searchParams.toString(), formToken, approve: true, workspaceId, scopes });

  async function expectNothingGranted() {
    expect(await codeCount()).toBe(0);
    expect(await auditRows("oauth.consent")).toHaveLength(0);
  }

  it("from another origin: 403 and no code", async () => {
    const fx = await setUp();
    const response = await consent(fx.url, fx.cookie, { workspaceId: fx.workspaceId, headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(JSON.stringify(await response.json())).not.toContain("code=");
    await expectNothingGranted();
  });

  it("from a cross-site fetch without Origin: 403", async () => {
    const fx = await setUp();
    const response = await postDecision(answer(fx.url, await renderedFormToken(fx.url, fx.cookie), fx.workspaceId), {
      cookie: fx.cookie,
      headers: { origin: "", "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
    await expectNothingGranted();
  });

  it("without a session: 401", async () => {
    const fx = await setUp();
    const formToken = await renderedFormToken(fx.url, fx.cookie);
    expect((await postDecision(answer(fx.url, formToken, fx.workspaceId))).status).toBe(401);
    expect((await postDecision(answer(fx.url, formToken, fx.workspaceId), { cookie: "enclave_session=forged" })).status).toBe(401);
    await expectNothingGranted();
  });

  it("with a form token rendered for another session of the same person: 403", async () => {
    const fx = await setUp();
    const otherSession = await sessionCookieForUser(fx.user.id);
    const response = await postDecision(answer(fx.url, await renderedFormToken(fx.url, otherSession), fx.workspaceId), { cookie: fx.cookie });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_form_token");
    await expectNothingGranted();
  });

  it("with a form token rendered for another person: 403", async () => {
    const fx = await setUp();
    const { cookie: attacker } = await userInWorkspace(fx.workspaceId, "member");
    const response = await postDecision(answer(fx.url, await renderedFormToken(fx.url, attacker), fx.workspaceId), { cookie: fx.cookie });
    expect(response.status).toBe(403);
    await expectNothingGranted();
  });

  it.each([
    ["wider scopes", { scope: "search knowledge artifacts offline_access" }],
    ["narrower scopes", { scope: "search offline_access" }],
    ["another code_challenge", { code_challenge: pkce().challenge }],
    ["another state", { state: "st-2" }],
  ])("with a form token shown for a different request (%s): 403", async (_what, change) => {
    const fx = await setUp();
    const shown = await renderedFormToken(fx.url, fx.cookie);
    const posted = new URL(fx.url);
    for (const [name, value] of Object.entries(change)) posted.searchParams.set(name, value);
    const response = await postDecision(answer(posted, shown, fx.workspaceId), { cookie: fx.cookie });
    expect(response.status).toBe(403);
    await expectNothingGranted();
  });

  it("with no form token, or garbage: 4xx", async () => {
    const fx = await setUp();
    expect((await postDecision({ ...answer(fx.url, "", fx.workspaceId) }, { cookie: fx.cookie })).status).toBe(403);
    expect((await postDecision({ query: fx.url.searchParams.toString(), approve: true, workspaceId: fx.workspaceId }, { cookie: fx.cookie })).status).toBe(400);
    await expectNothingGranted();
  });

  it("for a workspace the person is not a member of: 404", async () => {
    const fx = await setUp();
    const { workspaceId: foreign } = await workspaceWithTokens();
    for (const workspaceId of [foreign, "ws_00000000000000000000000000000000", "../etc", ""]) {
      const response = await postDecision(answer(fx.url, await renderedFormToken(fx.url, fx.cookie), workspaceId), { cookie: fx.cookie });
      expect(response.status).toBe(404);
    }
    await expectNothingGranted();
  });

  it("deny: back to the client with access_denied and the state, and no code", async () => {
    const fx = await setUp();
    const back = await redirectParams(await consent(fx.url, fx.cookie, { workspaceId: fx.workspaceId, approve: false }));
    expect(back.get("error")).toBe("access_denied");
    expect(back.get("state")).toBe("st-1");
    expect(back.get("iss")).toBe(ORIGIN);
    expect(back.get("code")).toBeNull();
    await expectNothingGranted();
    expect(await auditRows("oauth.consent_denied")).toHaveLength(1);
  });
});

describe("consent: never more than the person's role", () => {
  it("a viewer consenting to knowledge gets a token without it", async () => {
    const fx = await connected({ role: "viewer", scope: "search knowledge offline_access", scopes: ["search", "knowledge"] });
    expect(fx.tokens.scope.split(" ")).not.toContain("knowledge");
    const principal = await principalOf(fx.tokens.access_token);
    expect(principal?.scopes).toEqual(["search"]);
  });

  it("a viewer consenting only to knowledge: 403 scope_exceeds_role, no code", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "viewer");
    const client = await registeredClient();
    const response = await consent(authorizeUrl(client.client_id, pkce().challenge, { scope: "knowledge" }), cookie, { workspaceId, scopes: ["knowledge"] });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toBe("scope_exceeds_role");
    expect(await codeCount()).toBe(0);
  });

  it("ticking scopes the client did not ask for adds nothing", async () => {
    const fx = await connected({ role: "owner", scope: "search", scopes: ["search", "knowledge", "audit", "artifacts"] });
    expect((await principalOf(fx.tokens.access_token))?.scopes).toEqual(["search"]);
    expect(fx.tokens.scope).toBe("search offline_access");
  });

  it("audit is granted to an admin who is asked for it, never to a member", async () => {
    const member = await connected({ role: "member", scope: "search audit" });
    expect((await principalOf(member.tokens.access_token))?.scopes).toEqual(["search"]);
    const admin = await connected({ role: "admin", scope: "search audit" });
    expect((await principalOf(admin.tokens.access_token))?.scopes).toEqual(["search", "audit"]);
  });
});

describe("tokens are bound to one workspace, one person and one audience", () => {
  it("a token for workspace A gives nothing in workspace B, even to a person who is a member of both", async () => {
    const fx = await connected({ role: "owner" });
    const { workspaceId: other } = await workspaceWithTokens();
    const control = await getControlDb();
    await control.db.insert(memberships).values({ workspaceId: other, userId: fx.userId, role: "owner", createdAt: Date.now() });
    const principal = (await principalOf(fx.tokens.access_token))!;
    expect(await workspaceGrant(principal, fx.workspaceId)).not.toBeNull();
    expect(await workspaceGrant(principal, other)).toBeNull();
    await expect(authorize(principal, other, "search")).rejects.toMatchObject({ status: 404 });
  });

  it("the REST API refuses an OAuth access token (wrong audience): 401", async () => {
    const fx = await connected();
    const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.tokens.access_token });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/invalid_token/);
  });

  it("resolves only for the MCP resource", async () => {
    const fx = await connected();
    for (const resource of [`${ORIGIN}/other`, `${ORIGIN}/api`, `${MCP_URL}/`, "https://evil.example/mcp", ORIGIN]) {
      expect(await resolveOAuthAccessToken(fx.tokens.access_token, resource)).toBeNull();
    }
    expect(await principalOf(fx.tokens.access_token)).not.toBeNull();
  });

  it("a person removed from the workspace takes the client's access with them", async () => {
    const fx = await connected();
    const control = await getControlDb();
    await control.db.delete(memberships).where(and(eq(memberships.workspaceId, fx.workspaceId), eq(memberships.userId, fx.userId)));
    const principal = await principalOf(fx.tokens.access_token);
    expect(principal === null || (await workspaceGrant(principal, fx.workspaceId)) === null).toBe(true);
  });

  it("a member demoted to viewer: knowledge drops out of the token's access", async () => {
    const fx = await connected({ role: "member", scope: "search knowledge" });
    const before = await workspaceGrant((await principalOf(fx.tokens.access_token))!, fx.workspaceId);
    expect(before?.scopes).toContain("knowledge");
    const control = await getControlDb();
    await control.db.update(memberships).set({ role: "viewer" }).where(and(eq(memberships.workspaceId, fx.workspaceId), eq(memberships.userId, fx.userId)));
    const after = await workspaceGrant((await principalOf(fx.tokens.access_token))!, fx.workspaceId);
    expect(after?.scopes).toEqual(["search"]);
    await expect(authorize((await principalOf(fx.tokens.access_token))!, fx.workspaceId, "knowledge")).rejects.toMatchObject({ status: 403 });
  });

  it("a code is good only in the workspace it was consented for: the redeemed token names it", async () => {
    const fx = await connected();
    const tokens: Tokens = fx.tokens;
    expect((await principalOf(tokens.access_token))?.workspaceId).toBe(fx.workspaceId);
    expect((await principalOf(tokens.access_token))?.userId).toBe(fx.userId);
    expect((await redeem(fx)).status).toBe(400);
  });
});
