import { describe, expect, it } from "vitest";
import { accessRequests, emailTokens, invitations, users, webhookReceipts } from "@/db/control/schema";
import { getControlDb } from "@/lib/db/store";
import { useTempStore } from "@/test/store";
import { KEEP_FINISHED_MS, KEEP_RECEIPTS_MS, sweepIdentityRows } from "./identity-sweep";

useTempStore();

describe("identity sweep", () => {
  it("forgets only what is past its use, and keeps what may still be needed", async () => {
    const now = Date.now();
    const control = await getControlDb();
    await control.db.insert(users).values({ id: "usr_a", email: "a@example.com", passwordHash: "x", createdAt: now });
    await control.db.insert(emailTokens).values([
      { id: "etk_live", userId: "usr_a", purpose: "password_reset", tokenHash: "t1", createdAt: now, expiresAt: now + 60_000 },
      { id: "etk_expired", userId: "usr_a", purpose: "password_reset", tokenHash: "t2", createdAt: now - 3_600_000, expiresAt: now - 1 },
      { id: "etk_used", userId: "usr_a", purpose: "email_verification", tokenHash: "t3", createdAt: now, expiresAt: now + 60_000, usedAt: now },
    ]);
    const invitation = { email: "b@example.com", createdAt: now - KEEP_FINISHED_MS * 2 };
    await control.db.insert(invitations).values([
      { id: "inv_pending", tokenHash: "i1", ...invitation, createdAt: now, expiresAt: now + 60_000 },
      { id: "inv_recently_expired", tokenHash: "i2", ...invitation, expiresAt: now - 1 },
      { id: "inv_long_expired", tokenHash: "i3", ...invitation, expiresAt: now - KEEP_FINISHED_MS - 1 },
      { id: "inv_long_revoked", tokenHash: "i4", ...invitation, expiresAt: now + 60_000, revokedAt: now - KEEP_FINISHED_MS - 1 },
    ]);
    await control.db.insert(accessRequests).values([
      { id: "req_old_pending", email: "c@example.com", createdAt: now - KEEP_FINISHED_MS * 3 },
      { id: "req_old_answered", email: "d@example.com", createdAt: now - KEEP_FINISHED_MS * 3, status: "declined", answeredAt: now - KEEP_FINISHED_MS - 1 },
      { id: "req_new_answered", email: "e@example.com", createdAt: now, status: "approved", answeredAt: now },
    ]);
    await control.db.insert(webhookReceipts).values([
      { provider: "clerk", eventId: "msg_old", eventType: "user.created", receivedAt: now - KEEP_RECEIPTS_MS - 1 },
      { provider: "clerk", eventId: "msg_new", eventType: "user.created", receivedAt: now },
    ]);

    expect(await sweepIdentityRows(now)).toEqual({ emailTokens: 2, invitations: 2, accessRequests: 1, webhookReceipts: 1 });

    const ids = async <T,>(rows: Promise<T[]>, pick: (row: T) => string) => (await rows).map(pick).sort();
    expect(await ids(control.db.select().from(emailTokens), (row) => row.id)).toEqual(["etk_live"]);
    expect(await ids(control.db.select().from(invitations), (row) => row.id)).toEqual(["inv_pending", "inv_recently_expired"]);
    expect(await ids(control.db.select().from(accessRequests), (row) => row.id)).toEqual(["req_new_answered", "req_old_pending"]);
    expect(await ids(control.db.select().from(webhookReceipts), (row) => row.eventId)).toEqual(["msg_new"]);
    // A second run finds nothing more: the job is idempotent.
    expect(await sweepIdentityRows(now)).toEqual({ emailTokens: 0, invitations: 0, accessRequests: 0, webhookReceipts: 0 });
  });
});
