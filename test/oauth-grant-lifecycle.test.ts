import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { memberships } from "@/db/control/schema";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { connected, grantFor, principalOf, refresh, refusal, type Tokens } from "./oauth-attack-helpers";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

const WITH_REFRESH = "search knowledge offline_access";

async function setRole(workspaceId: string, userId: string, role: "viewer" | null) {
  const control = await getControlDb();
  const where = and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId));
  if (role) await control.db.update(memberships).set({ role }).where(where);
  else await control.db.delete(memberships).where(where);
}

describe("a grant follows its person's membership", () => {
  it("once the person is removed, a refresh is refused and the grant is revoked", async () => {
    const fx = await connected({ scope: WITH_REFRESH });
    await setRole(fx.workspaceId, fx.userId, null);
    expect(await refusal(await refresh(fx.client, fx.tokens.refresh_token!))).toEqual({ status: 400, error: "invalid_grant" });
    expect((await grantFor(fx.tokens.access_token))?.revokedReason).toBe("member_removed");
    expect(await principalOf(fx.tokens.access_token)).toBeNull();
  });

  it("once the person is demoted to viewer, a refresh narrows the tokens to what a viewer may do", async () => {
    const fx = await connected({ scope: WITH_REFRESH });
    await setRole(fx.workspaceId, fx.userId, "viewer");
    const response = await refresh(fx.client, fx.tokens.refresh_token!);
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as Tokens;
    expect(tokens.scope.split(" ")).toEqual(["search", "offline_access"]);
    expect((await principalOf(tokens.access_token))?.scopes).toEqual(["search"]);
  });
});

describe("a client gets only the grants it registered", () => {
  it("a client that registered only authorization_code gets no refresh token, even asking for offline_access", async () => {
    const fx = await connected({ scope: WITH_REFRESH, client: { grant_types: ["authorization_code"] } });
    expect(fx.tokens.refresh_token).toBeUndefined();
    expect(await refusal(await refresh(fx.client, "enc_rt_made-up"))).toEqual({ status: 400, error: "unauthorized_client" });
  });
});
