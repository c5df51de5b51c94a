import { beforeEach, describe, expect, it } from "vitest";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { useTempStore } from "./store";
import { workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";

useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "3", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "2" });
beforeEach(() => resetRateLimits());

describe("REST rate limits: per client IP, per endpoint", () => {
  it("the call over the limit gets 429 with Retry-After, while other endpoints and other IPs keep their own budgets", async () => {
    const fx = await workspaceWithTokens();
    const searchFrom = (ip: string) => request(workspacePath(fx.workspaceId, "/search"), { token: fx.viewer, query: { q: "x" }, ip });

    for (let i = 0; i < 3; i += 1) expect((await searchFrom("198.51.100.7")).status).toBe(200);
    const limited = await searchFrom("198.51.100.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: "rate_limited" });

    // Another endpoint from the same IP, and the same endpoint from another IP, are unaffected.
    expect((await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer, ip: "198.51.100.7" })).status).toBe(200);
    expect((await searchFrom("203.0.113.9")).status).toBe(200);

    // Admin endpoints have their own, smaller budget.
    const listTokens = () => request(workspacePath(fx.workspaceId, "/tokens"), { token: fx.admin, ip: "198.51.100.7" });
    expect((await listTokens()).status).toBe(200);
    expect((await listTokens()).status).toBe(200);
    const limitedAdmin = await listTokens();
    expect(limitedAdmin.status).toBe(429);
    expect((await jsonOf(limitedAdmin)).error).toBe("rate_limited");
  });

  it("counts before authenticating: unauthenticated floods are braked too, and a refused write stores nothing", async () => {
    const fx = await workspaceWithTokens();
    const post = () => request(workspacePath(fx.workspaceId, "/knowledge"), { token: "enc_garbage", body: { title: "t", body: "b" }, ip: "192.0.2.1" });
    for (let i = 0; i < 3; i += 1) expect((await post()).status).toBe(401);
    const braked = await post();
    expect(braked.status).toBe(429);
    expect((await jsonOf(braked)).error).toBe("rate_limited");
    const listed = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer });
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
