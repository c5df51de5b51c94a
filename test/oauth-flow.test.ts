import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { describe, expect, it } from "vitest";
import { resolveOAuthAccessToken } from "@/lib/access/bearer";
import { workspaceWithTokens, userInWorkspace } from "./api";
import { ORIGIN } from "./harness";
import { MemoryOAuthProvider } from "./oauth-provider";
import { consent, redirectParams } from "./oauth";
import { appFetch } from "./harness";
import { useTempStore } from "./store";

useTempStore();
const MCP_URL = `${ORIGIN}/mcp`;

describe("the SDK's own OAuth client against Enclave's authorization server", () => {
  it("discovers, registers, gets a code through consent, redeems it and refreshes", async () => {
    const { workspaceId } = await workspaceWithTokens();
    const { cookie } = await userInWorkspace(workspaceId, "member");
    const provider = new MemoryOAuthProvider();

    expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: appFetch })).toBe("REDIRECT");
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${ORIGIN}/oauth/authorize`);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorizationUrl.searchParams.get("resource")).toBe(MCP_URL);

    const back = await redirectParams(await consent(authorizationUrl, cookie, { workspaceId }));
    expect(back.get("state")).toBe("state-123");
    expect(back.get("iss")).toBe(ORIGIN);
    expect(await auth(provider, { serverUrl: MCP_URL, authorizationCode: back.get("code")!, fetchFn: appFetch })).toBe("AUTHORIZED");
    const first = provider.savedTokens!;
    expect(first.token_type).toBe("Bearer");
    expect(first.refresh_token).toMatch(/^enc_rt_/);
    const principal = await resolveOAuthAccessToken(first.access_token, MCP_URL);
    expect(principal).toMatchObject({ kind: "oauth", workspaceId });
    expect(principal?.scopes).toContain("knowledge");
    expect(principal?.scopes).not.toContain("audit");

    // A second auth() with a refresh token rotates both tokens.
    expect(await auth(provider, { serverUrl: MCP_URL, fetchFn: appFetch })).toBe("AUTHORIZED");
    expect(provider.savedTokens!.access_token).not.toBe(first.access_token);
    expect(provider.savedTokens!.refresh_token).not.toBe(first.refresh_token);
    expect(await resolveOAuthAccessToken(provider.savedTokens!.access_token, MCP_URL)).not.toBeNull();
    expect(await resolveOAuthAccessToken(first.access_token, `${ORIGIN}/api`)).toBeNull();
  });
});
