import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { clerkEndedSessions, memberships, users, webhookReceipts, workspaces } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jsonOf, request } from "./harness";
import { useTempStore } from "./store";
import { clerkEnv, clerkKeys, clerkUser, mintSessionToken, sessionCookie, signedHeaders, startFakeClerkApi } from "./clerk";

const keys = clerkKeys();
const api = await startFakeClerkApi(() => keys.secretKey);
afterAll(() => api.close());
useTempStore(clerkEnv(keys, api.url, { ENCLAVE_SIGNUP: "open" }));
beforeEach(() => resetRateLimits());

const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

/** POSTs `event` to the webhook as Clerk (through svix) would, or with `tamper` applied to what is sent. */
async function deliver(event: unknown, options: { id?: string; at?: Date; secret?: string; headers?: Record<string, string>; rawBody?: string; ip?: string } = {}) {
  const payload = JSON.stringify(event);
  const headers = { ...signedHeaders(options.secret ?? keys.webhookSecret, options.id ?? newId("msg"), payload, options.at), ...options.headers };
  return request("/api/webhooks/clerk", { method: "POST", rawBody: options.rawBody ?? payload, headers, ip: options.ip });
}

const userEvent = (type: string, id: string, email: string, options: { updatedAt?: number; verified?: boolean } = {}) => ({ type, object: "event", data: clerkUser(id, email, options) });

async function rowOf(clerkUserId: string) {
  const control = await getControlDb();
  return control.db.query.users.findFirst({ where: eq(users.clerkUserId, clerkUserId) });
}

async function auditRows(action: string) {
  const control = await getControlDb();
  return control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, action));
}

async function snapshot() {
  const control = await getControlDb();
  return JSON.stringify({
    users: await control.db.select().from(users),
    receipts: await control.db.select().from(webhookReceipts),
    ended: await control.db.select().from(clerkEndedSessions),
  });
}

describe("deliveries svix verified are applied once", () => {
  it("user.created creates the account by its verified email, and its session then signs in without asking Clerk", async () => {
    const sub = newId("user");
    const response = await deliver(userEvent("user.created", sub, "Linus@Example.com"));
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toMatchObject({ received: true, outcome: "applied" });
    expect(await rowOf(sub)).toMatchObject({ email: "linus@example.com" });
    const token = await mintSessionToken(keys.privateKey, { sub, sid: newId("sess") });
    expect((await request("/api/workspaces", { cookie: sessionCookie(token) })).status).toBe(200);
    expect(api.requests).toEqual([]);
  });

  it("a replayed delivery (same svix-id) is a 200 that changes nothing", async () => {
    const sub = newId("user");
    const id = newId("msg");
    expect((await deliver(userEvent("user.created", sub, "first@example.com"), { id })).status).toBe(200);
    const before = await snapshot();
    // The same id again, even re-signed with a newer body: the receipt says it was handled.
    const replay = await deliver(userEvent("user.updated", sub, "changed@example.com", { updatedAt: Date.now() + 60_000 }), { id });
    expect(replay.status).toBe(200);
    expect(await jsonOf(replay)).toMatchObject({ outcome: "replay" });
    expect(await snapshot()).toBe(before);
  });

  it("user.updated takes a changed verified email; an older one arriving late does not undo it", async () => {
    const sub = newId("user");
    const t = Date.now();
    await deliver(userEvent("user.created", sub, "old@example.com", { updatedAt: t }));
    expect((await deliver(userEvent("user.updated", sub, "newest@example.com", { updatedAt: t + 2000 }))).status).toBe(200);
    const late = await deliver(userEvent("user.updated", sub, "middle@example.com", { updatedAt: t + 1000 }));
    expect(late.status).toBe(200);
    expect(await jsonOf(late)).toMatchObject({ outcome: "ignored" });
    expect((await rowOf(sub))?.email).toBe("newest@example.com");
    expect((await auditRows("clerk.email_changed")).map((row) => JSON.parse(row.details) as unknown)).toEqual([{ from: "old@example.com", to: "newest@example.com" }]);
  });

  it("a user.updated that arrives before its user.created still ends with the newer state", async () => {
    const sub = newId("user");
    const t = Date.now();
    await deliver(userEvent("user.updated", sub, "after@example.com", { updatedAt: t + 1000 }));
    await deliver(userEvent("user.created", sub, "before@example.com", { updatedAt: t }));
    expect((await rowOf(sub))?.email).toBe("after@example.com");
  });

  it("refuses to take an email another account holds: 200, logged and audited, nothing changed", async () => {
    const [a, b] = [newId("user"), newId("user")];
    await deliver(userEvent("user.created", a, "a@example.com", { updatedAt: 1 }));
    await deliver(userEvent("user.created", b, "b@example.com", { updatedAt: 1 }));
    const response = await deliver(userEvent("user.updated", b, "a@example.com", { updatedAt: 2 }));
    expect(response.status).toBe(200);
    expect((await rowOf(b))?.email).toBe("b@example.com");
    expect((await rowOf(a))?.email).toBe("a@example.com");
    expect(await auditRows("clerk.email_conflict")).toHaveLength(1);
  });

  it("an unverified new email is not taken", async () => {
    const sub = newId("user");
    await deliver(userEvent("user.created", sub, "kept@example.com", { updatedAt: 1 }));
    await deliver(userEvent("user.updated", sub, "unproven@example.com", { updatedAt: 2, verified: false }));
    expect((await rowOf(sub))?.email).toBe("kept@example.com");
  });

  it("session.revoked / ended / removed make Enclave refuse that session id at once", async () => {
    const sub = newId("user");
    await deliver(userEvent("user.created", sub, `${newId("s")}@example.com`));
    for (const type of ["session.revoked", "session.ended", "session.removed"]) {
      const sid = newId("sess");
      const cookie = sessionCookie(await mintSessionToken(keys.privateKey, { sub, sid }));
      expect((await request("/api/workspaces", { cookie })).status).toBe(200);
      const expireAt = Date.now() + 7 * 86_400_000;
      expect((await deliver({ type, object: "event", data: { object: "session", id: sid, user_id: sub, expire_at: expireAt } })).status).toBe(200);
      expect((await request("/api/workspaces", { cookie })).status, type).toBe(401);
      const control = await getControlDb();
      const [ended] = await control.db.select().from(clerkEndedSessions).where(eq(clerkEndedSessions.sessionId, sid));
      expect(ended?.expiresAt).toBe(expireAt);
    }
  });

  it("session.created and unknown event types are a 200 that changes only the receipts", async () => {
    const before = JSON.parse(await snapshot()) as { users: unknown[] };
    for (const type of ["session.created", "organization.created", "something.new"]) {
      const response = await deliver({ type, object: "event", data: { id: "x" } });
      expect(response.status).toBe(200);
      expect(await jsonOf(response)).toMatchObject({ outcome: "ignored" });
    }
    const after = JSON.parse(await snapshot()) as { users: unknown[]; receipts: unknown[] };
    expect(after.users).toEqual(before.users);
    expect(after.receipts).toHaveLength(3);
  });
});

describe("user.deleted starts account closure with its hold", () => {
  async function clerkOwner() {
    const sub = newId("user");
    await deliver(userEvent("user.created", sub, `${newId("o")}@example.com`));
    const row = (await rowOf(sub))!;
    return { sub, row };
  }

  it("closes the account: sessions refused, the workspace it owns alone with others goes with it (restorable during the hold), a co-owned one stays", async () => {
    const { sub, row } = await clerkOwner();
    const control = await getControlDb();
    const alone = await createWorkspace({ type: "user", userId: row.id }, "Alone but shared");
    const coOwned = await createWorkspace({ type: "user", userId: row.id }, "Co-owned");
    const colleague = { id: newId("usr"), email: `${newId("c")}@example.com`, passwordHash: "", createdAt: Date.now() };
    await control.db.insert(users).values(colleague);
    await control.db.insert(memberships).values([
      { workspaceId: alone.id, userId: colleague.id, role: "member", createdAt: Date.now() },
      { workspaceId: coOwned.id, userId: colleague.id, role: "owner", createdAt: Date.now() },
    ]);
    const cookie = sessionCookie(await mintSessionToken(keys.privateKey, { sub, sid: newId("sess") }));
    expect((await request("/api/workspaces", { cookie })).status).toBe(200);

    const response = await deliver({ type: "user.deleted", object: "event", data: { object: "user", id: sub, deleted: true } });
    expect(response.status).toBe(200);
    const closed = await rowOf(sub);
    expect(closed?.closureRequestedAt).toBeTypeOf("number");
    expect(closed?.purgeAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const refused = await request("/api/workspaces", { cookie });
    expect(refused.status).toBe(403);
    expect(await jsonOf(refused)).toMatchObject({ error: "account_closing" });
    const state = async (id: string) => (await control.db.select({ deletedWith: workspaces.deletedWith }).from(workspaces).where(eq(workspaces.id, id)))[0]?.deletedWith ?? null;
    expect(await state(alone.id)).toBe("account_closure");
    expect(await state(coOwned.id)).toBeNull();
    const [colleagueMembership] = await control.db.select().from(memberships).where(and(eq(memberships.workspaceId, coOwned.id), eq(memberships.userId, colleague.id)));
    expect(colleagueMembership?.role).toBe("owner");
    const [audit] = await auditRows("account.closure_requested");
    expect(JSON.parse(audit!.details)).toMatchObject({ workspacesDeleted: [alone.id] });
    expect(audit!.actorType).toBe("system");
  });

  it("a replayed or repeated user.deleted changes nothing more", async () => {
    const { sub } = await clerkOwner();
    const id = newId("msg");
    const event = { type: "user.deleted", object: "event", data: { object: "user", id: sub, deleted: true } };
    await deliver(event, { id });
    const before = await snapshot();
    expect(await jsonOf(await deliver(event, { id }))).toMatchObject({ outcome: "replay" });
    expect(await jsonOf(await deliver(event))).toMatchObject({ outcome: "ignored" });
    const after = JSON.parse(await snapshot()) as { users: unknown };
    expect(after.users).toEqual((JSON.parse(before) as { users: unknown }).users);
    expect(await auditRows("account.closure_requested")).toHaveLength(1);
  });
});

describe("forged, tampered and stale deliveries are a 400 with an audit row, and change nothing", () => {
  const event = () => userEvent("user.created", newId("user"), `${newId("f")}@example.com`);

  it.each([
    ["a tampered body (one byte changed)", () => {
      const payload = JSON.stringify(event());
      const headers = signedHeaders(keys.webhookSecret, newId("msg"), payload);
      return { rawBody: payload.replace("example.com", "examplf.com"), headers };
    }, "bad_signature"],
    ["a wrong signing secret", () => ({ secret: `whsec_${randomBytes(24).toString("base64")}` }), "bad_signature"],
    ["a timestamp older than five minutes", () => ({ at: new Date(Date.now() - 10 * 60_000) }), "stale_timestamp"],
    ["a timestamp far in the future", () => ({ at: new Date(Date.now() + 10 * 60_000) }), "future_timestamp"],
    ["no svix-signature header", () => ({ headers: { "svix-signature": "" } }), "missing_headers"],
    ["no svix-id header", () => ({ headers: { "svix-id": "" } }), "missing_headers"],
    ["no svix-timestamp header", () => ({ headers: { "svix-timestamp": "" } }), "missing_headers"],
    ["a signature header of junk", () => ({ headers: { "svix-signature": "v1,AAAA" } }), "bad_signature"],
  ] as const)("%s", async (_name, forge, reason) => {
    const before = await snapshot();
    const { rawBody, headers, secret, at } = forge() as { rawBody?: string; headers?: Record<string, string>; secret?: string; at?: Date };
    const response = await deliver(event(), { rawBody, headers, secret, at });
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toMatchObject({ error: "webhook_rejected", requestId: expect.any(String) as unknown });
    expect(await snapshot()).toBe(before);
    const rows = await auditRows("webhook.rejected");
    expect(rows.map((row) => (JSON.parse(row.details) as { reason: string }).reason)).toEqual([reason]);
  });

  it("an oversized body is a 413 before any of it is verified, audited", async () => {
    const before = await snapshot();
    const response = await deliver({ type: "user.created", data: { pad: "x".repeat(300 * 1024) } });
    expect(response.status).toBe(413);
    expect(await snapshot()).toBe(before);
    expect((await auditRows("webhook.rejected")).map((row) => (JSON.parse(row.details) as { reason: string }).reason)).toEqual(["oversized"]);
  });

  it("a flood of forgeries from one IP is audited within the budget, not one row each", async () => {
    for (let i = 0; i < 100; i++) expect((await deliver(event(), { secret: `whsec_${randomBytes(24).toString("base64")}`, ip: "203.0.113.9" })).status).toBe(400);
    const rows = await auditRows("webhook.rejected");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(60);
  });
});

describe("outside Clerk mode", () => {
  useTempStore();
  it("the webhook endpoint does not exist (404), even for a well-signed delivery", async () => {
    const response = await deliver(userEvent("user.created", newId("user"), "x@example.com"));
    expect(response.status).toBe(404);
    const control = await getControlDb();
    expect(await control.db.select().from(webhookReceipts)).toEqual([]);
  });
});
