import { beforeEach, describe, expect, it } from "vitest";
import * as knowledge from "@/app/api/v1/workspaces/[workspaceId]/knowledge/route";
import * as search from "@/app/api/v1/workspaces/[workspaceId]/search/route";
import * as tokens from "@/app/api/v1/workspaces/[workspaceId]/tokens/route";
import { runWithRequestContext } from "@/lib/http/context";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { useTempStore } from "./store";
import { callApi, workspaceWithTokens } from "./api";

useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "3", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "2" });
beforeEach(() => resetRateLimits());

const fromIp = <T>(ip: string, fn: () => Promise<T>) => runWithRequestContext({ requestId: `req-${ip}`, ip }, fn);

describe("REST rate limits: per client IP, per endpoint", () => {
  it("the call over the limit gets 429 with Retry-After, while other endpoints and other IPs keep their own budgets", async () => {
    const fx = await workspaceWithTokens();
    const params = { workspaceId: fx.workspaceId };
    const searchFrom = (ip: string) => fromIp(ip, () => callApi(search.GET, { token: fx.viewer, params, query: { q: "x" } }));

    for (let i = 0; i < 3; i += 1) expect((await searchFrom("198.51.100.7")).status).toBe(200);
    const limited = await searchFrom("198.51.100.7");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: "rate_limited" });

    // Another endpoint from the same IP, and the same endpoint from another IP, are unaffected.
    expect((await fromIp("198.51.100.7", () => callApi(knowledge.GET, { token: fx.viewer, params }))).status).toBe(200);
    expect((await searchFrom("203.0.113.9")).status).toBe(200);

    // Admin endpoints have their own, smaller budget.
    const listTokens = () => fromIp("198.51.100.7", () => callApi(tokens.GET, { token: fx.admin, params }));
    expect((await listTokens()).status).toBe(200);
    expect((await listTokens()).status).toBe(200);
    expect((await listTokens()).status).toBe(429);
  });

  it("counts before authenticating: unauthenticated floods are braked too, and a refused write stores nothing", async () => {
    const fx = await workspaceWithTokens();
    const params = { workspaceId: fx.workspaceId };
    const post = () => fromIp("192.0.2.1", () => callApi(knowledge.POST, { token: "enc_garbage", params, body: { title: "t", body: "b" } }));
    for (let i = 0; i < 3; i += 1) expect((await post()).status).toBe(401);
    expect((await post()).status).toBe(429);
    const listed = await callApi(knowledge.GET, { token: fx.viewer, params });
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
