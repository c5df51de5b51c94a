import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { oauthCodes, oauthTokens } from "@/db/control/schema";
import { sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sweepExpiredOAuthRows } from "@/lib/oauth/sweep";
import { authorized, connected, grantCount, principalOf, redeem, refresh, refusal } from "./oauth-attack-helpers";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

const HOUR = 60 * 60 * 1000;

describe("sweeping expired OAuth rows", () => {
  it("forgets expired tokens and the grants they leave empty, and keeps live ones", async () => {
    const shortLived = await connected({ scope: "search", client: { grant_types: ["authorization_code"] } });
    const staying = await connected({ scope: "search" });
    expect(await grantCount()).toBe(2);

    // Two hours on: both access tokens have expired; only the second connection can refresh.
    const swept = await sweepExpiredOAuthRows(Date.now() + 2 * HOUR);
    expect(swept).toMatchObject({ tokens: 2, grants: 1 });
    expect(await grantCount()).toBe(1);
    const control = await getControlDb();
    const left = await control.db.select({ kind: oauthTokens.kind }).from(oauthTokens);
    expect(left).toEqual([{ kind: "refresh" }]);
    expect(await principalOf(shortLived.tokens.access_token)).toBeNull();
    expect(staying.tokens.refresh_token).toBeDefined();
  });

  it("keeps a used code for a day after it expired, so a late reuse still revokes what the first redemption produced", async () => {
    const fx = await authorized({ scope: "search offline_access" });
    const first = (await (await redeem(fx)).json()) as { refresh_token: string };

    await sweepExpiredOAuthRows(Date.now() + 2 * HOUR);
    expect(await grantCount()).toBe(1);
    expect(await refusal(await redeem(fx))).toEqual({ status: 400, error: "invalid_grant" });
    expect(await refusal(await refresh(fx.client, first.refresh_token))).toEqual({ status: 400, error: "invalid_grant" });

    await sweepExpiredOAuthRows(Date.now() + 25 * HOUR);
    const control = await getControlDb();
    expect(await control.db.select().from(oauthCodes).where(eq(oauthCodes.codeHash, sha256Hex(fx.code)))).toEqual([]);
  });

  it("changes nothing when nothing has expired", async () => {
    await connected({ scope: "search offline_access" });
    expect(await sweepExpiredOAuthRows()).toEqual({ codes: 0, tokens: 0, grants: 0 });
    expect(await grantCount()).toBe(1);
  });
});
