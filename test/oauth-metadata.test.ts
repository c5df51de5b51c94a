import { OAuthMetadataSchema, OAuthProtectedResourceMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { beforeEach, describe, expect, it } from "vitest";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { machineApp } from "@/lib/router/machine-router";
import { appFetch, ORIGIN } from "./harness";
import { MCP_URL, register, registeredClient, revokeCall, tokenCall } from "./oauth-attack-helpers";
import { tokenRequest } from "./oauth";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

// Through the in-process server (the machine router), as a browser-based client would call them.
const get = (path: string) => appFetch(new Request(`${ORIGIN}${path}`, { headers: { origin: "https://inspector.example" } }));
const preflight = (path: string) =>
  appFetch(
    new Request(`${ORIGIN}${path}`, {
      method: "OPTIONS",
      headers: { origin: "https://inspector.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    }),
  );

function expectOpenCors(response: Response, { preflight = false } = {}) {
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
  // Exposed headers matter on the actual response; a preflight answer has none to expose.
  const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  if (!preflight) expect(exposed).toContain("www-authenticate");
  // Wildcard CORS is safe only because no credentials are ever honoured with it.
  expect(response.headers.get("access-control-allow-credentials")).toBeNull();
}

const prmPaths = ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"];

describe("protected resource metadata (RFC 9728)", () => {
  it.each(prmPaths)("%s names exactly the MCP endpoint and this server", async (path) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expectOpenCors(response);
    const body = (await response.json()) as Record<string, unknown>;
    const parsed = OAuthProtectedResourceMetadataSchema.parse(body);
    expect(parsed.resource).toBe(`${ORIGIN}/mcp`);
    expect(parsed.authorization_servers).toEqual([ORIGIN]);
    expect(parsed.bearer_methods_supported).toEqual(["header"]);
    expect(parsed.scopes_supported).toEqual(expect.arrayContaining(["search", "graph", "events:read", "knowledge", "offline_access"]));
    // Portal-only powers are never on offer to an AI client.
    for (const scope of ["members", "tokens", "settings", "clients", "billing", "ownership", "workspace:delete"]) {
      expect(parsed.scopes_supported).not.toContain(scope);
    }
  });

  it("is built from the configured public URL, never from the request's Host", async () => {
    // Straight to the machine router: the request's own URL names the other host, as the node adapter builds it from Host.
    const response = await machineApp().fetch(
      new Request("http://evil.example/.well-known/oauth-protected-resource/mcp", { headers: { host: "evil.example", "x-forwarded-host": "evil.example" } }),
    );
    const body = JSON.stringify(await response.json());
    expect(body).not.toContain("evil.example");
    expect(body).toContain(MCP_URL);
  });
});

describe("authorization server metadata (RFC 8414)", () => {
  it("agrees with the protected resource metadata and says what is supported", async () => {
    const prm = OAuthProtectedResourceMetadataSchema.parse(await (await get("/.well-known/oauth-protected-resource/mcp")).json());
    const response = await get("/.well-known/oauth-authorization-server");
    expect(response.status).toBe(200);
    expectOpenCors(response);
    const metadata = OAuthMetadataSchema.parse(await response.json());
    expect(metadata.issuer).toBe(prm.authorization_servers?.[0]);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.grant_types_supported).toEqual(["authorization_code", "refresh_token"]);
    expect(metadata.response_types_supported).toEqual(["code"]);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(["none", "client_secret_post", "client_secret_basic"]);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.registration_endpoint).toBe(`${ORIGIN}/oauth/register`);
    expect(metadata.authorization_endpoint).toBe(`${ORIGIN}/oauth/authorize`);
    expect(metadata.token_endpoint).toBe(`${ORIGIN}/oauth/token`);
    expect(metadata.revocation_endpoint).toBe(`${ORIGIN}/oauth/revoke`);
    expect((metadata as Record<string, unknown>).client_id_metadata_document_supported).toBe(true);
    // No implicit flow, no password grant, no plain PKCE: nothing a downgrade could pick.
    expect(metadata.grant_types_supported).not.toContain("implicit");
    expect(metadata.grant_types_supported).not.toContain("password");
    expect(metadata.code_challenge_methods_supported).not.toContain("plain");
  });

  it.each(["/.well-known/openid-configuration", "/.well-known/openid-configuration/mcp", "/.well-known/oauth-authorization-server/mcp"])(
    "is not an OpenID provider and has no path-suffixed metadata: %s is a JSON 404",
    async (path) => {
      const response = await get(path);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: string }).error).toBe("not_found");
      expectOpenCors(response);
    },
  );
});

describe("CORS on the endpoints machines call", () => {
  const preflights = [
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/oauth/register",
    "/oauth/token",
    "/oauth/revoke",
  ];

  it.each(preflights)("OPTIONS %s is answered for any origin", async (path) => {
    const response = await preflight(path);
    expect(response.status).toBe(204);
    expectOpenCors(response, { preflight: true });
    expect((response.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("authorization");
    expect((response.headers.get("access-control-allow-methods") ?? "").toUpperCase()).toContain("OPTIONS");
  });

  it("register, token and revoke carry the headers on success and on refusal", async () => {
    const created = await register({ redirect_uris: ["https://app.example.com/cb"], token_endpoint_auth_method: "none" });
    expect(created.status).toBe(201);
    expectOpenCors(created);
    const refused = await register({ redirect_uris: ["javascript:alert(1)"] });
    expect(refused.status).toBe(400);
    expectOpenCors(refused);

    const client = await registeredClient({ token_endpoint_auth_method: "client_secret_basic" });
    const badSecret = await tokenCall({ ...client, client_secret: "ecs_wrong" }, { grant_type: "authorization_code", code: "x", code_verifier: "y" });
    expect(badSecret.status).toBe(401);
    expectOpenCors(badSecret);
    // A browser-based client can read the challenge only because it is exposed.
    expect(badSecret.headers.get("www-authenticate")).toMatch(/^Basic/);
    const unsupported = await tokenRequest({ grant_type: "password", username: "a", password: "b" });
    expect(unsupported.status).toBe(400);
    expectOpenCors(unsupported);
    expect(unsupported.headers.get("cache-control")).toBe("no-store");

    const revoked = await revokeCall(client, { token: "ert_unknown" });
    expect(revoked.status).toBe(200);
    expectOpenCors(revoked);
  });
});
