import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { oauthCodes, oauthTokens } from "@/db/control/schema";
import { sha256Hex } from "@/lib/crypto/secrets";
import { parseConfig, setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { ORIGIN } from "./harness";
import { tokenRequest } from "./oauth";
import { appFetch } from "./harness";
import {
  auditRows,
  authorized,
  basicAuth,
  connected,
  controlTablesText,
  grantCount,
  grantFor,
  MCP_URL,
  pkce,
  principalOf,
  redeem,
  refresh,
  refreshWorks,
  refusal,
  registeredClient,
  revokeCall,
  tokenCall,
  type Tokens,
} from "./oauth-attack-helpers";
import { testConfig, useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

const tokensOf = async (response: Response) => {
  expect(response.status).toBe(200);
  // RFC 6749 §5.1: a token response is never cached.
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as Tokens;
};

async function expireCode(code: string) {
  const control = await getControlDb();
  await control.db.update(oauthCodes).set({ expiresAt: Date.now() - 1000 }).where(eq(oauthCodes.codeHash, sha256Hex(code)));
}

async function expireToken(token: string) {
  const control = await getControlDb();
  await control.db.update(oauthTokens).set({ expiresAt: Date.now() - 1000 }).where(eq(oauthTokens.tokenHash, sha256Hex(token)));
}

describe("token endpoint: authorization codes", () => {
  it("a wrong PKCE verifier: invalid_grant, and the code is burnt for the right one too", async () => {
    const fx = await authorized();
    expect(await refusal(await redeem(fx, { code_verifier: pkce().verifier }))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await refusal(await redeem(fx))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await grantCount()).toBe(0);
  });

  it("a verifier that is no verifier (too short, wrong alphabet): invalid_grant", async () => {
    const short = await authorized();
    expect(await refusal(await redeem(short, { code_verifier: short.verifier.slice(0, 42) }))).toEqual({ status: 400, error: "invalid_grant" });
    const odd = await authorized();
    expect(await refusal(await redeem(odd, { code_verifier: `${odd.verifier}!` }))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await grantCount()).toBe(0);
  });

  it("no verifier: invalid_request, nothing granted", async () => {
    const fx = await authorized();
    expect(await refusal(await redeem(fx, { code_verifier: null }))).toEqual({ status: 400, error: "invalid_request" });
    expect(await refusal(await redeem(fx, { code_verifier: "" }))).toEqual({ status: 400, error: "invalid_request" });
    expect(await grantCount()).toBe(0);
  });

  it("a code redeemed twice: invalid_grant, and the first redemption's tokens die", async () => {
    const fx = await authorized();
    const first = await tokensOf(await redeem(fx));
    expect(await principalOf(first.access_token)).not.toBeNull();
    expect(await refusal(await redeem(fx))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await principalOf(first.access_token)).toBeNull();
    expect(await refusal(await refresh(fx.client, first.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect((await grantFor(first.access_token))?.revokedReason).toBe("code_reuse");
    expect(await auditRows("oauth.code_reuse")).toHaveLength(1);
  });

  it("the same code redeemed twice at once: one redemption, then both are dead", async () => {
    const fx = await authorized();
    const responses = await Promise.all([redeem(fx), redeem(fx)]);
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 400]);
    const winner = (await responses.find((response) => response.status === 200)!.json()) as Tokens;
    expect(await principalOf(winner.access_token)).toBeNull();
    expect(await grantCount()).toBe(1);
  });

  it("an expired code: invalid_grant", async () => {
    const fx = await authorized();
    await expireCode(fx.code);
    expect(await refusal(await redeem(fx))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await grantCount()).toBe(0);
  });

  it("a code redeemed by another client: invalid_grant, nothing granted", async () => {
    const fx = await authorized();
    const thief = await registeredClient();
    expect(await refusal(await redeem(fx, {}, thief))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await grantCount()).toBe(0);
  });

  it("a redirect_uri other than the code's: invalid_grant, and the code is burnt", async () => {
    const fx = await authorized();
    expect(await refusal(await redeem(fx, { redirect_uri: "https://evil.example/cb" }))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await refusal(await redeem(fx))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await grantCount()).toBe(0);
  });

  it("another resource: invalid_target", async () => {
    const fx = await authorized();
    expect(await refusal(await redeem(fx, { resource: `${ORIGIN}/api` }))).toEqual({ status: 400, error: "invalid_target" });
    expect(await grantCount()).toBe(0);
  });

  it("an unknown or missing code", async () => {
    const fx = await authorized();
    // A different last character (never the one it had: "x" would be the same code one time in 62).
    const altered = `${fx.code.slice(0, -1)}${fx.code.endsWith("x") ? "y" : "x"}`;
    expect(await refusal(await redeem(fx, { code: altered }))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await refusal(await redeem(fx, { code: null }))).toEqual({ status: 400, error: "invalid_request" });
    expect(await grantCount()).toBe(0);
  });

  it("a confidential client's code is no good without its secret, and not burnt by the try", async () => {
    const fx = await authorized({ client: { token_endpoint_auth_method: "client_secret_basic" } });
    const publicTry = await tokenRequest({ grant_type: "authorization_code", client_id: fx.client.client_id, code: fx.code, code_verifier: fx.verifier, redirect_uri: fx.redirectUri });
    expect(await refusal(publicTry)).toEqual({ status: 401, error: "invalid_client" });
    const wrong = await redeem(fx, {}, { ...fx.client, client_secret: "enc_cs_wrong" });
    expect(await refusal(wrong)).toEqual({ status: 401, error: "invalid_client" });
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(await grantCount()).toBe(0);
    await tokensOf(await redeem(fx));
  });

  it.each(["client_secret_basic", "client_secret_post"] as const)("a %s client may send its secret either way", async (method) => {
    const viaBasic = await authorized({ client: { token_endpoint_auth_method: method } });
    await tokensOf(await redeem(viaBasic, {}, { ...viaBasic.client, token_endpoint_auth_method: "client_secret_basic" }));
    const viaPost = await authorized({ client: { token_endpoint_auth_method: method } });
    await tokensOf(await redeem(viaPost, {}, { ...viaPost.client, token_endpoint_auth_method: "client_secret_post" }));
  });

  it("Basic credentials and a different client_id in the form: refused", async () => {
    const fx = await authorized({ client: { token_endpoint_auth_method: "client_secret_basic" } });
    const other = await registeredClient();
    const response = await redeem(fx, { client_id: other.client_id });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
    expect(await grantCount()).toBe(0);
  });
});

describe("token endpoint: requests it refuses outright", () => {
  it.each(["password", "client_credentials", "implicit", "urn:ietf:params:oauth:grant-type:device_code", ""])("grant_type=%s: unsupported_grant_type", async (grant) => {
    const client = await registeredClient();
    const response = await tokenCall(client, { grant_type: grant, username: "a", password: "b" });
    expect(await refusal(response)).toEqual({ status: 400, error: "unsupported_grant_type" });
  });

  it("a public client that does not say who it is: 401 invalid_client", async () => {
    const fx = await authorized();
    const response = await tokenRequest({ grant_type: "authorization_code", code: fx.code, code_verifier: fx.verifier, redirect_uri: fx.redirectUri });
    expect(await refusal(response)).toEqual({ status: 401, error: "invalid_client" });
    expect(await grantCount()).toBe(0);
  });

  it("a JSON body: 400 invalid_request", async () => {
    const fx = await authorized();
    const response = await appFetch(`${ORIGIN}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code", client_id: fx.client.client_id, code: fx.code, code_verifier: fx.verifier }),
    });
    expect(await refusal(response)).toEqual({ status: 400, error: "invalid_request" });
    expect(await grantCount()).toBe(0);
  });

  it("an oversized form: 413, nothing granted", async () => {
    const fx = await authorized();
    expect((await redeem(fx, { padding: "a".repeat(64 * 1024) })).status).toBe(413);
    expect(await grantCount()).toBe(0);
  });

  it("a charset on the form's content type is fine", async () => {
    const fx = await authorized();
    const form = { grant_type: "authorization_code", code: fx.code, code_verifier: fx.verifier };
    await tokensOf(await tokenCall(fx.client, form, { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" }));
  });

  it("a parameter sent twice: 400 invalid_request", async () => {
    const fx = await authorized();
    const body = new URLSearchParams({ grant_type: "authorization_code", client_id: fx.client.client_id, code: fx.code, code_verifier: fx.verifier });
    body.append("code", "enc_ac_other");
    const response = await appFetch(`${ORIGIN}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
    expect(await refusal(response)).toEqual({ status: 400, error: "invalid_request" });
    expect(await grantCount()).toBe(0);
  });
});

describe("token endpoint: refresh tokens", () => {
  it("reuse of a rotated refresh token: invalid_grant, and the whole family dies", async () => {
    const fx = await connected();
    const second = await tokensOf(await refresh(fx.client, fx.tokens.refresh_token!));
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await principalOf(second.access_token)).toBeNull();
    expect(await principalOf(fx.tokens.access_token)).toBeNull();
    expect(await refusal(await refresh(fx.client, second.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect((await grantFor(second.access_token))?.revokedReason).toBe("refresh_reuse");
    const reuse = await auditRows("oauth.refresh_reuse");
    expect(reuse).toHaveLength(1);
    expect(reuse[0]?.target).toBe((await grantFor(second.access_token))?.id);
  });

  it("the same refresh token twice at once: at most one rotation, and the family dies", async () => {
    const fx = await connected();
    const responses = await Promise.all([refresh(fx.client, fx.tokens.refresh_token!), refresh(fx.client, fx.tokens.refresh_token!)]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400]);
    const winner = (await responses.find((response) => response.status === 200)!.json()) as Tokens;
    expect(await principalOf(winner.access_token)).toBeNull();
    expect(await refreshWorks(fx.client, winner.refresh_token!)).toBe(false);
  });

  it("a refresh token of a revoked grant: invalid_grant, and no new reuse alarm", async () => {
    const fx = await connected();
    expect((await revokeCall(fx.client, { token: fx.tokens.access_token })).status).toBe(200);
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await auditRows("oauth.token_refresh")).toHaveLength(0);
  });

  it("a narrower scope works and the new token has only that; it cannot widen back", async () => {
    const fx = await connected({ scope: "search knowledge offline_access" });
    const narrowed = await tokensOf(await refresh(fx.client, fx.tokens.refresh_token!, { scope: "search" }));
    expect(narrowed.scope.split(" ")).not.toContain("knowledge");
    expect((await principalOf(narrowed.access_token))?.scopes).toEqual(["search"]);
    expect(await refusal(await refresh(fx.client, narrowed.refresh_token!, { scope: "search knowledge" }))).toEqual({ status: 400, error: "invalid_scope" });
  });

  it("a scope that was not granted: invalid_scope, and nothing new is issued", async () => {
    const fx = await connected({ scope: "search offline_access" });
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!, { scope: "search knowledge" }))).toEqual({ status: 400, error: "invalid_scope" });
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!, { scope: "audit" }))).toEqual({ status: 400, error: "invalid_scope" });
    expect(await auditRows("oauth.token_refresh")).toHaveLength(0);
  });

  it("another resource: invalid_target", async () => {
    const fx = await connected();
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!, { resource: "https://evil.example/mcp" }))).toEqual({ status: 400, error: "invalid_target" });
    expect(await auditRows("oauth.token_refresh")).toHaveLength(0);
  });

  it("another client's refresh token: invalid_grant", async () => {
    const fx = await connected();
    const thief = await registeredClient();
    expect(await refusal(await refresh(thief, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await auditRows("oauth.token_refresh")).toHaveLength(0);
  });

  it("an expired refresh token: invalid_grant", async () => {
    const fx = await connected();
    await expireToken(fx.tokens.refresh_token!);
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
  });

  it("an access token is no refresh token, and a refresh token is no access token", async () => {
    const fx = await connected();
    expect(await refusal(await refresh(fx.client, fx.tokens.access_token))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await principalOf(fx.tokens.refresh_token!)).toBeNull();
    expect(await refreshWorks(fx.client, fx.tokens.refresh_token!)).toBe(true);
  });

  it("a refresh token to a client that registered the refresh_token grant, whether or not it asked for offline_access", async () => {
    // MCP clients ask for the scope a challenge names, verbatim, and the challenge has no offline_access in it.
    for (const scope of ["search knowledge", "search knowledge offline_access"]) {
      const fx = await connected({ scope });
      expect(fx.tokens.refresh_token, scope).toMatch(/^enc_rt_/);
      expect(fx.tokens.scope).toBe("search knowledge offline_access");
      expect(await refreshWorks(fx.client, fx.tokens.refresh_token!)).toBe(true);
    }
  });
});

describe("access tokens at rest and in time", () => {
  it("an access token lives ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS (an hour unless set), in expires_in and in what is stored", async () => {
    const lifetimeOf = async (fx: { tokens: Tokens }) => {
      const control = await getControlDb();
      const [row] = await control.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, sha256Hex(fx.tokens.access_token)));
      return (row!.expiresAt - row!.createdAt) / 1000;
    };
    const standard = await connected();
    expect(standard.tokens.expires_in).toBe(3600);
    expect(await lifetimeOf(standard)).toBe(3600);

    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS: "5" }));
    const short = await connected();
    expect(short.tokens.expires_in).toBe(5);
    expect(await lifetimeOf(short)).toBe(5);
    const refreshed = await tokensOf(await refresh(short.client, short.tokens.refresh_token!));
    expect(refreshed.expires_in).toBe(5);
    // The refresh token keeps its 30 days.
    const control = await getControlDb();
    const [row] = await control.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, sha256Hex(refreshed.refresh_token!)));
    expect(row!.expiresAt - row!.createdAt).toBe(30 * 24 * 60 * 60 * 1000);
  });

  it("ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS is 5 to 86400 whole seconds, and a bad value names the variable", () => {
    expect(parseConfig({}).ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS).toBe(3600);
    expect(parseConfig({ ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS: "86400" }).ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS).toBe(86400);
    for (const bad of ["0", "4", "-60", "86401", "1.5", "an hour"]) {
      expect(() => parseConfig({ ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS: bad }), bad).toThrow(/ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS/);
    }
  });

  it("an expired access token resolves to nothing", async () => {
    const fx = await connected();
    await expireToken(fx.tokens.access_token);
    expect(await principalOf(fx.tokens.access_token)).toBeNull();
  });

  it("tokens, codes and secrets are stored only as SHA-256", async () => {
    const fx = await authorized({ client: { token_endpoint_auth_method: "client_secret_post" } });
    const tokens = await tokensOf(await redeem(fx));
    const rotated = await tokensOf(await refresh(fx.client, tokens.refresh_token!));
    const control = await getControlDb();
    const rows = JSON.stringify(await control.rows("SELECT * FROM oauth_tokens"));
    const secrets = [tokens.access_token, tokens.refresh_token!, rotated.access_token, rotated.refresh_token!];
    for (const secret of secrets) expect(rows).toContain(sha256Hex(secret));
    expect(JSON.stringify(await control.rows("SELECT * FROM oauth_codes"))).toContain(sha256Hex(fx.code));
    const everything = await controlTablesText();
    for (const secret of [...secrets, fx.code, fx.client.client_secret!, fx.verifier]) expect(everything).not.toContain(secret.slice(-30));
  });
});

describe("revocation (RFC 7009)", () => {
  it("a client revoking its own refresh token ends the grant", async () => {
    const fx = await connected();
    const response = await revokeCall(fx.client, { token: fx.tokens.refresh_token! });
    expect(response.status).toBe(200);
    expect(await principalOf(fx.tokens.access_token)).toBeNull();
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect((await grantFor(fx.tokens.access_token))?.revokedAt).not.toBeNull();
    expect(await auditRows("oauth.grant_revoke")).toHaveLength(1);
  });

  it("revoking the access token ends the grant too", async () => {
    const fx = await connected();
    expect((await revokeCall(fx.client, { token: fx.tokens.access_token, token_type_hint: "access_token" })).status).toBe(200);
    expect(await principalOf(fx.tokens.access_token)).toBeNull();
    expect(await refreshWorks(fx.client, fx.tokens.refresh_token!)).toBe(false);
  });

  it("client B presenting client A's token: 200, and A's token still works", async () => {
    const fx = await connected();
    const other = await registeredClient();
    expect((await revokeCall(other, { token: fx.tokens.refresh_token! })).status).toBe(200);
    expect((await revokeCall(other, { token: fx.tokens.access_token })).status).toBe(200);
    expect(await principalOf(fx.tokens.access_token)).not.toBeNull();
    expect(await auditRows("oauth.grant_revoke")).toHaveLength(0);
    expect(await refreshWorks(fx.client, fx.tokens.refresh_token!)).toBe(true);
  });

  it("an unknown token: 200, nothing changes", async () => {
    const fx = await connected();
    expect((await revokeCall(fx.client, { token: "enc_rt_unknown" })).status).toBe(200);
    expect((await revokeCall(fx.client, { token: "x".repeat(5000) })).status).toBe(200);
    expect(await principalOf(fx.tokens.access_token)).not.toBeNull();
  });

  it("a confidential client without its secret cannot revoke, and no token is a 400", async () => {
    const fx = await connected({ client: { token_endpoint_auth_method: "client_secret_basic" } });
    const response = await revokeCall(fx.client, { token: fx.tokens.refresh_token! }, { authorization: basicAuth(fx.client.client_id, "wrong") });
    expect(await refusal(response)).toEqual({ status: 401, error: "invalid_client" });
    expect(await refusal(await revokeCall(fx.client, {}))).toEqual({ status: 400, error: "invalid_request" });
    expect(await principalOf(fx.tokens.access_token)).not.toBeNull();
  });
});

describe("audit trail of the OAuth flow", () => {
  it("consent, issue, refresh, code reuse, refresh reuse and revocation each leave a row, with no secret in it", async () => {
    const fx = await authorized();
    const tokens = await tokensOf(await redeem(fx));
    const rotated = await tokensOf(await refresh(fx.client, tokens.refresh_token!));
    await redeem(fx);
    const other = await connected();
    const again = await tokensOf(await refresh(other.client, other.tokens.refresh_token!));
    await refresh(other.client, other.tokens.refresh_token!);
    const third = await connected();
    await revokeCall(third.client, { token: third.tokens.access_token });

    const rows = await auditRows();
    const actions = rows.map((row) => row.action);
    for (const action of ["oauth.consent", "oauth.token_issue", "oauth.token_refresh", "oauth.code_reuse", "oauth.refresh_reuse", "oauth.grant_revoke"] as const) {
      expect(actions).toContain(action);
    }
    expect(rows.filter((row) => row.action === "oauth.consent")).toHaveLength(3);
    const consentRow = rows.find((row) => row.action === "oauth.consent")!;
    expect(consentRow).toMatchObject({ actorType: "user", actorId: fx.userId, target: fx.client.client_id });
    expect(JSON.parse(consentRow.details)).toMatchObject({ workspaceId: fx.workspaceId });
    const issue = rows.find((row) => row.action === "oauth.token_issue")!;
    expect(issue).toMatchObject({ actorType: "oauth", actorId: fx.client.client_id });

    const text = JSON.stringify(rows);
    const secrets = [fx.code, tokens.access_token, tokens.refresh_token!, rotated.access_token, rotated.refresh_token!, again.access_token, other.code, third.tokens.access_token];
    for (const secret of secrets) expect(text).not.toContain(secret.slice(-30));
    expect(MCP_URL).toBe(`${ORIGIN}/mcp`);
  });
});
