import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { oauthClients } from "@/db/control/schema";
import { sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { userInWorkspace, workspaceWithTokens } from "./api";
import { ORIGIN } from "./harness";
import { consent, redirectParams, tokenRequest } from "./oauth";
import { appFetch } from "./harness";
import { auditRows, controlTablesText, register } from "./oauth-attack-helpers";
import { CALLBACK_URL, MemoryOAuthProvider } from "./oauth-provider";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

const CURSOR_LIKE = ["cursor://anysphere.cursor-retrieval/oauth/user-enclave/callback", "http://localhost:5173/cb", "https://app.example.com/cb"];

type Registration = { client_id: string; client_secret?: string; client_secret_expires_at?: number; redirect_uris: string[]; token_endpoint_auth_method: string };

async function clientCount(): Promise<number> {
  const control = await getControlDb();
  return (await control.db.select({ id: oauthClients.id }).from(oauthClients)).length;
}

async function expectRefused(metadata: unknown, status: number, error: string) {
  const before = await clientCount();
  const response = await register(metadata);
  const body = (await response.json()) as { error: string; client_id?: string; client_secret?: string };
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  expect(body.client_id).toBeUndefined();
  expect(body.client_secret).toBeUndefined();
  expect(await clientCount()).toBe(before);
  expect(await auditRows("oauth.client_register")).toHaveLength(before);
}

describe("dynamic client registration: what is issued", () => {
  it("a public client gets an id and no secret", async () => {
    const response = await register({ client_name: "Claude", redirect_uris: CURSOR_LIKE, token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"] });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Registration;
    expect(body.client_id).toMatch(/^cli_/);
    expect(body.client_secret).toBeUndefined();
    expect(body.token_endpoint_auth_method).toBe("none");
    expect(body.redirect_uris).toEqual(CURSOR_LIKE);
    const control = await getControlDb();
    const [row] = await control.db.select().from(oauthClients).where(eq(oauthClients.id, body.client_id));
    expect(row?.secretHash).toBeNull();
    expect(JSON.parse(row!.redirectUris)).toEqual(CURSOR_LIKE);
  });

  it.each(["client_secret_basic", "client_secret_post"])("a %s client gets a secret that is stored only as its SHA-256", async (method) => {
    const response = await register({ client_name: "Confidential", redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: method });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Registration;
    // At least 256 random bits, base64url (after whatever prefix marks it).
    expect(body.client_secret).toMatch(/[A-Za-z0-9_-]{43,}$/);
    expect(body.client_secret_expires_at).toBe(0);
    const secret = body.client_secret!;

    const control = await getControlDb();
    const rows = await control.rows("SELECT * FROM oauth_clients WHERE id = ?", [body.client_id]);
    expect(rows).toHaveLength(1);
    const rowText = JSON.stringify(rows[0]);
    expect(rowText).toContain(sha256Hex(secret));
    expect(rowText).not.toContain(secret);
    expect(rowText).not.toContain(secret.slice(-30));
    // Nor anywhere else: not in the stored metadata, not in the audit trail.
    const everything = await controlTablesText();
    expect(everything).not.toContain(secret.slice(-30));
  });

  it("registration without an auth method is confidential (RFC 7591's default)", async () => {
    const response = await register({ redirect_uris: ["https://app.example.com/cb"] });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Registration;
    expect(body.token_endpoint_auth_method).toBe("client_secret_basic");
    expect(body.client_secret).toBeDefined();
  });

  it("the same metadata twice gives two clients", async () => {
    const metadata = { client_name: "Twice", redirect_uris: CURSOR_LIKE, token_endpoint_auth_method: "none" };
    const first = (await (await register(metadata)).json()) as Registration;
    const second = (await (await register(metadata)).json()) as Registration;
    expect(first.client_id).not.toBe(second.client_id);
    expect(await clientCount()).toBe(2);
  });

  it("writes an oauth.client_register audit row naming the client, without any secret", async () => {
    const body = (await (await register({ client_name: "Audited", redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "client_secret_post" })).json()) as Registration;
    const rows = await auditRows("oauth.client_register");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorType: "anonymous", target: body.client_id });
    expect(JSON.parse(rows[0]!.details)).toMatchObject({ name: "Audited", authMethod: "client_secret_post", redirectUris: ["https://app.example.com/cb"] });
    expect(rows[0]!.details).not.toContain(body.client_secret!.slice(-30));
  });

  it("does not store or echo fields it does not know (a smuggled client_secret, client_id)", async () => {
    const response = await register({
      redirect_uris: ["https://app.example.com/cb"],
      token_endpoint_auth_method: "none",
      client_id: "cli_chosen_by_attacker",
      client_secret: "attacker-secret",
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Registration;
    expect(body.client_id).not.toBe("cli_chosen_by_attacker");
    expect(body.client_secret).toBeUndefined();
    expect(await controlTablesText()).not.toContain("attacker-secret");
  });
});

describe("dynamic client registration: grant types it does not offer (RFC 7591 §3.2.1)", () => {
  const VS_CODE_LIKE = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"];

  it.each(["urn:ietf:params:oauth:grant-type:device_code", "client_credentials", "password", "implicit"])(
    "drops %s, registers the rest, and answers with what was registered",
    async (grant) => {
      const response = await register({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", grant_types: [grant, "authorization_code", "refresh_token"] });
      expect(response.status).toBe(201);
      const body = (await response.json()) as Registration & { grant_types: string[] };
      expect(body.grant_types).toEqual(["authorization_code", "refresh_token"]);
      const control = await getControlDb();
      const [row] = await control.db.select().from(oauthClients).where(eq(oauthClients.id, body.client_id));
      expect((JSON.parse(row!.metadata) as { grant_types: string[] }).grant_types).toEqual(["authorization_code", "refresh_token"]);
      expect(JSON.parse((await auditRows("oauth.client_register"))[0]!.details)).toMatchObject({ grantTypes: ["authorization_code", "refresh_token"] });
    },
  );

  it("a client that also asks for device_code connects through the SDK's own flow and gets a refresh token", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const provider = new MemoryOAuthProvider({ client_name: "VS Code", redirect_uris: [CALLBACK_URL], grant_types: VS_CODE_LIKE, response_types: ["code"], token_endpoint_auth_method: "none" });
    expect(await auth(provider, { serverUrl: `${ORIGIN}/mcp`, fetchFn: appFetch })).toBe("REDIRECT");
    expect(provider.information).toMatchObject({ grant_types: ["authorization_code", "refresh_token"] });
    const back = await redirectParams(await consent(provider.authorizationUrl!, cookie, { workspaceId }));
    expect(await auth(provider, { serverUrl: `${ORIGIN}/mcp`, authorizationCode: back.get("code")!, fetchFn: appFetch })).toBe("AUTHORIZED");
    expect(provider.savedTokens?.refresh_token).toMatch(/^enc_rt_/);
  });

  it("the dropped grant is not usable: the device_code grant at the token endpoint is unsupported", async () => {
    const body = (await (await register({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", grant_types: VS_CODE_LIKE })).json()) as Registration;
    const response = await tokenRequest({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: "x", client_id: body.client_id });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("unsupported_grant_type");
  });

  it("refuses an unsupported response type still (the implicit flow stays off)", async () => {
    await expectRefused({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", grant_types: VS_CODE_LIKE, response_types: ["code", "token"] }, 400, "invalid_client_metadata");
  });
});

describe("dynamic client registration: what is refused", () => {
  it.each([
    ["javascript:alert(1)"],
    ["JavaScript:alert(1)"],
    ["data:text/html,x"],
    ["http://example.com/cb"],
    ["http://localhost.example.com/cb"],
    ["https://app.example.com/cb#frag"],
    ["https://app.example.com/cb#"],
    ["https://user:pass@app.example.com/cb"], // enclave-scan: allow
    ["/relative/cb"],
    ["file:///etc/passwd"],
  ])("the redirect URI %s with invalid_redirect_uri, and nothing is stored", async (uri) => {
    await expectRefused({ redirect_uris: ["https://app.example.com/ok", uri], token_endpoint_auth_method: "none" }, 400, "invalid_redirect_uri");
  });

  it.each([
    ["an unpaired surrogate", "Agent \ud800"],
    ["a NUL", "Agent\u0000"],
    ["a right-to-left override", "Claude\u202Egnp.exe"],
    ["a line break", "Trusted\nAgent"],
  ])("a client_name with %s with invalid_client_metadata (it is shown on the consent page), and nothing is stored", async (_what, name) => {
    await expectRefused({ redirect_uris: ["https://app.example.com/ok"], client_name: name, token_endpoint_auth_method: "none" }, 400, "invalid_client_metadata");
  });

  it("metadata over 16 KiB (the SDK's schema bounds no field) with invalid_client_metadata, and nothing is stored", async () => {
    await expectRefused({ redirect_uris: ["https://app.example.com/ok"], software_statement: "x".repeat(17 * 1024), token_endpoint_auth_method: "none" }, 400, "invalid_client_metadata");
    await expectRefused({ redirect_uris: ["https://app.example.com/ok"], contacts: Array.from({ length: 2000 }, (_, i) => `ops${i}@example.com`) }, 400, "invalid_client_metadata");
  });

  it("an empty redirect_uris list", async () => {
    await expectRefused({ redirect_uris: [], token_endpoint_auth_method: "none" }, 400, "invalid_redirect_uri");
  });

  it("no redirect_uris at all", async () => {
    const response = await register({ client_name: "x", token_endpoint_auth_method: "none" });
    expect(response.status).toBe(400);
    expect(await clientCount()).toBe(0);
  });

  it.each([
    [["urn:ietf:params:oauth:grant-type:device_code"]],
    [["client_credentials", "password", "implicit"]],
    [["refresh_token"]],
    [["refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]],
    [[]],
  ])("grant types %j, none of which leads to a token here (no authorization_code), with invalid_client_metadata", async (grantTypes) => {
    await expectRefused({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", grant_types: grantTypes }, 400, "invalid_client_metadata");
  });

  it("response_type token (the implicit flow)", async () => {
    await expectRefused({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", response_types: ["token"] }, 400, "invalid_client_metadata");
  });

  it.each(["client_uri", "logo_uri", "tos_uri"])("a javascript: %s with invalid_client_metadata", async (field) => {
    await expectRefused({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", [field]: "javascript:alert(1)" }, 400, "invalid_client_metadata");
  });

  it("an auth method it does not support (private_key_jwt)", async () => {
    await expectRefused({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "private_key_jwt" }, 400, "invalid_client_metadata");
  });

  it("a body that is not JSON, or not an object", async () => {
    const garbage = await register(undefined, { rawBody: "redirect_uris=https://app.example.com/cb" });
    expect(garbage.status).toBe(400);
    const array = await register(["https://app.example.com/cb"]);
    expect(array.status).toBe(400);
    const wrongType = await register(undefined, { rawBody: "redirect_uris=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(wrongType.status).toBe(415);
    expect(await clientCount()).toBe(0);
  });

  it("an oversized body with 413 before it is parsed", async () => {
    const huge = { redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none", client_name: "x", software_statement: "a".repeat(2 * 1024 * 1024) };
    const response = await register(huge);
    expect(response.status).toBe(413);
    expect(await clientCount()).toBe(0);
  });

  it("more redirect URIs than allowed", async () => {
    const uris = Array.from({ length: 50 }, (_, i) => `https://app.example.com/cb${i}`);
    const response = await register({ redirect_uris: uris, token_endpoint_auth_method: "none" });
    expect(response.status).toBe(400);
    expect(await clientCount()).toBe(0);
  });

  it("GET on the registration endpoint is a 405", async () => {
    const response = await appFetch(`${ORIGIN}/oauth/register`);
    expect(response.status).toBe(405);
  });
});

describe("dynamic client registration: rate limit", () => {
  const fromIp = (ip: string) => register({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none" }, { ip });

  it("brakes one IP with 429 and Retry-After, after well more than 10 registrations, and not another IP", async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let n = 0; n < 200 && !limited; n += 1) {
      const response = await fromIp("203.0.113.7");
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: string }).error).toBe("rate_limited");
    expect(limited!.headers.get("access-control-allow-origin")).toBe("*");
    const registered = await clientCount();
    expect(registered).toBe(statuses.length - 1);

    expect((await fromIp("203.0.113.7")).status).toBe(429);
    expect(await clientCount()).toBe(registered);
    expect((await fromIp("198.51.100.2")).status).toBe(201);
  });
});
