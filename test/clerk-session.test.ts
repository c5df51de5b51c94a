import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { SignJWT } from "jose";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { clerkEndedSessions, invitations, memberships, users } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { recordEndedClerkSession, sweepEndedClerkSessions } from "@/lib/auth/clerk-sessions";
import { getControlDb } from "@/lib/db/store";
import { randomId } from "@/lib/crypto/ids";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { useTempStore } from "./store";
import { clerkEnv, clerkKeys, clerkUser, mintSessionToken, PUBLIC_ORIGIN, sessionCookie, startFakeClerkApi, unsignedToken } from "./clerk";

const keys = clerkKeys();
const api = await startFakeClerkApi(() => keys.secretKey);
afterAll(() => api.close());
// Sign-up open unless a describe below says otherwise.
useTempStore(clerkEnv(keys, api.url, { ENCLAVE_SIGNUP: "open" }));
beforeEach(() => {
  resetRateLimits();
  api.users.clear();
  api.revoked.length = 0;
  api.requests.length = 0;
  api.revokeStatus.value = 200;
});

const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;
const listWorkspaces = (cookie: string) => request("/api/workspaces", { cookie });

/** A Clerk user the fake Backend API knows, and a fresh token of theirs. */
async function clerkPerson(email = `${newId("p")}@example.com`, claims: Record<string, unknown> = {}) {
  const sub = newId("user");
  const sid = newId("sess");
  api.users.set(sub, clerkUser(sub, email));
  const token = await mintSessionToken(keys.privateKey, { sub, sid, ...claims });
  return { sub, sid, email, token, cookie: sessionCookie(token) };
}

async function userRow(clerkUserId: string) {
  const control = await getControlDb();
  return control.db.query.users.findFirst({ where: eq(users.clerkUserId, clerkUserId) });
}

describe("a verified Clerk session is the same signed-in person as a local one", () => {
  it("creates the account on first sight from the Backend API's verified email, then reaches a workspace API as that user", async () => {
    const person = await clerkPerson("ada@example.com");
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    const row = await userRow(person.sub);
    expect(row).toMatchObject({ email: "ada@example.com", clerkUserId: person.sub, passwordHash: "" });
    expect(row?.emailVerifiedAt).toBeTypeOf("number");
    const created = await request("/api/workspaces", { cookie: person.cookie, body: { name: "Research" } });
    expect(created.status).toBe(201);
    const { workspace } = await jsonOf<{ workspace: { id: string } }>(created);
    const search = await request(workspacePath(workspace.id, "/knowledge"), { cookie: person.cookie });
    expect(search.status).toBe(200);
    // Only the first sight asked Clerk; the link answers every later request.
    expect(api.requests.filter((r) => r.path.startsWith("/v1/users/"))).toHaveLength(1);
    expect(api.requests.every((r) => r.authorized)).toBe(true);
  });

  it("links an existing local account with the same email instead of making a second one", async () => {
    const control = await getControlDb();
    const localId = randomId("usr");
    await control.db.insert(users).values({ id: localId, email: "grace@example.com", passwordHash: "x", createdAt: Date.now() });
    const person = await clerkPerson("grace@example.com");
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    expect((await userRow(person.sub))?.id).toBe(localId);
    const actions = await control.db.select({ action: controlAuditLog.action }).from(controlAuditLog);
    expect(actions.map((a) => a.action)).toContain("clerk.user_linked");
  });

  it("never takes over an account already linked to another Clerk user with that email", async () => {
    const first = await clerkPerson("same@example.com");
    expect((await listWorkspaces(first.cookie)).status).toBe(200);
    const second = await clerkPerson("same@example.com");
    const refused = await listWorkspaces(second.cookie);
    expect(refused.status).toBe(403);
    expect(await jsonOf(refused)).toMatchObject({ error: "email_taken" });
    expect(await userRow(second.sub)).toBeUndefined();
  });

  it("refuses a Clerk user whose primary email Clerk has not verified, creating nothing", async () => {
    const person = await clerkPerson("unverified@example.com");
    api.users.set(person.sub, clerkUser(person.sub, "unverified@example.com", { verified: false }));
    const refused = await listWorkspaces(person.cookie);
    expect(refused.status).toBe(403);
    expect(await jsonOf(refused)).toMatchObject({ error: "email_unverified" });
    expect(await userRow(person.sub)).toBeUndefined();
  });
});

describe("tokens Enclave must refuse (each a 401, no account created)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, (sub: string, sid: string) => Promise<string> | string][] = [
    ["expired", (sub, sid) => mintSessionToken(keys.privateKey, { sub, sid, iat: now() - 120, nbf: now() - 120, exp: now() - 60 })],
    ["not yet valid (nbf in the future)", (sub, sid) => mintSessionToken(keys.privateKey, { sub, sid, nbf: now() + 120, exp: now() + 180 })],
    ["minted for another instance's origin (azp)", (sub, sid) => mintSessionToken(keys.privateKey, { sub, sid, azp: "https://other-enclave.example.com" })],
    ["issued by another Frontend API (iss)", (sub, sid) => mintSessionToken(keys.privateKey, { sub, sid, iss: "https://clerk.someone-else.dev" })],
    ["signed with another key", (sub, sid) => mintSessionToken(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, { sub, sid })],
    ["unsigned (alg: none)", (sub, sid) => unsignedToken({ sub, sid })],
    // The classic confusion: HS256 with the public key's PEM as the HMAC secret.
    ["HS256 keyed with the public PEM", (sub, sid) => new SignJWT({ azp: PUBLIC_ORIGIN, sid }).setProtectedHeader({ alg: "HS256", kid: "ins_test" }).setSubject(sub).setIssuer("https://clerk.enclave.test").setIssuedAt().setNotBefore(now() - 10).setExpirationTime(now() + 60).sign(new TextEncoder().encode(keys.publicPem))],
    ["a pending session (sts: pending)", (sub, sid) => mintSessionToken(keys.privateKey, { sub, sid, sts: "pending" })],
    ["without a session id", (sub) => mintSessionToken(keys.privateKey, { sub, sid: "" })],
    ["garbage", () => "not.a.jwt"],
  ];

  it.each(cases)("%s", async (_name, mint) => {
    const person = await clerkPerson();
    const token = await mint(person.sub, person.sid);
    const response = await listWorkspaces(sessionCookie(token));
    expect(response.status).toBe(401);
    expect(await jsonOf(response)).toMatchObject({ error: "unauthenticated" });
    expect(await userRow(person.sub)).toBeUndefined();
    // A refused token never makes Enclave call Clerk.
    expect(api.requests).toEqual([]);
  });

  it("does not accept the Clerk token as a bearer, on the portal or on /api/v1", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    expect((await request("/api/workspaces", { token: person.token })).status).toBe(401);
    expect((await request(workspacePath("ws_whatever", "/knowledge"), { token: person.token })).status).toBe(401);
  });

  it("ignores the local session cookie name in Clerk mode", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(`enclave_session=${person.token}`)).status).toBe(401);
  });
});

describe("ended and refused sessions", () => {
  it("refuses a session id recorded as ended at once, though its token still verifies", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    await recordEndedClerkSession(person.sid);
    expect((await listWorkspaces(person.cookie)).status).toBe(401);
    // Another session of the same person is not affected.
    const other = await mintSessionToken(keys.privateKey, { sub: person.sub, sid: newId("sess") });
    expect((await listWorkspaces(sessionCookie(other))).status).toBe(200);
  });

  it("refuses a suspended account's valid Clerk session", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    const control = await getControlDb();
    await control.db.update(users).set({ suspendedAt: Date.now() }).where(eq(users.clerkUserId, person.sub));
    const refused = await listWorkspaces(person.cookie);
    expect(refused.status).toBe(403);
    expect(await jsonOf(refused)).toMatchObject({ error: "account_suspended" });
  });

  it("sign-out records the session as ended, revokes it at Clerk and clears Clerk's cookies", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    const out = await request("/api/auth/sign-out", { method: "POST", cookie: `${person.cookie}; __client_uat=1700000000; __session_Abc123=x` });
    expect(out.status).toBe(204);
    const cleared = out.headers.getSetCookie();
    for (const name of ["__session", "__client_uat", "__session_Abc123"]) expect(cleared.some((line) => line.startsWith(`${name}=`) && /Max-Age=0/.test(line))).toBe(true);
    expect(api.revoked).toEqual([person.sid]);
    expect((await listWorkspaces(person.cookie)).status).toBe(401);
  });

  it("sign-out ends the session even when its token expired minutes ago, but not for a forged or foreign one", async () => {
    const person = await clerkPerson();
    const past = Math.floor(Date.now() / 1000) - 600;
    const expired = await mintSessionToken(keys.privateKey, { sub: person.sub, sid: person.sid, iat: past, nbf: past, exp: past + 60 });
    expect((await request("/api/auth/sign-out", { method: "POST", cookie: sessionCookie(expired) })).status).toBe(204);
    expect(api.revoked).toEqual([person.sid]);
    const foreign = await mintSessionToken(keys.privateKey, { sub: person.sub, sid: newId("sess"), azp: "https://other.example.com" });
    const forged = await mintSessionToken(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, { sub: person.sub, sid: newId("sess") });
    for (const token of [foreign, forged]) expect((await request("/api/auth/sign-out", { method: "POST", cookie: sessionCookie(token) })).status).toBe(204);
    expect(api.revoked).toEqual([person.sid]);
    const control = await getControlDb();
    expect((await control.db.select().from(clerkEndedSessions)).map((row) => row.sessionId)).toEqual([person.sid]);
  });

  it("still refuses the session when Clerk's revoke call fails", async () => {
    const person = await clerkPerson();
    expect((await listWorkspaces(person.cookie)).status).toBe(200);
    api.revokeStatus.value = 500;
    expect((await request("/api/auth/sign-out", { method: "POST", cookie: person.cookie })).status).toBe(204);
    expect(api.revoked).toEqual([person.sid]);
    expect((await listWorkspaces(person.cookie)).status).toBe(401);
  });

  it("the expired-sessions sweep forgets ended ids only past their keep", async () => {
    await recordEndedClerkSession("sess_old", { now: Date.now() - 3 * 24 * 3_600_000 });
    await recordEndedClerkSession("sess_new");
    expect(await sweepEndedClerkSessions()).toEqual({ clerkEndedSessions: 1 });
    const control = await getControlDb();
    expect((await control.db.select().from(clerkEndedSessions)).map((row) => row.sessionId)).toEqual(["sess_new"]);
  });
});

describe("re-authentication in Clerk mode is Clerk's recent first-factor check", () => {
  it("lets export through with a first factor verified minutes ago, and asks for a fresh sign-in when it is older", async () => {
    const fresh = await clerkPerson(undefined, { fva: [2, -1] });
    const exported = await request("/api/account/export", { cookie: fresh.cookie });
    expect(exported.status).toBe(200);
    // Read to the end: the ZIP streams from the data dir the test removes afterwards.
    expect((await exported.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const stale = await mintSessionToken(keys.privateKey, { sub: fresh.sub, sid: newId("sess"), fva: [45, -1] });
    const refused = await request("/api/account/export", { cookie: sessionCookie(stale) });
    expect(refused.status).toBe(401);
    expect(await jsonOf(refused)).toMatchObject({ error: "reauth_required" });
  });

  it("closes an account with no password (Enclave holds none) after a recent sign-in, and refuses an older one, changing nothing", async () => {
    const person = await clerkPerson(undefined, { fva: [45, -1] });
    const close = (cookie: string) => request("/api/account/close", { cookie, body: {}, headers: { origin: ORIGIN } });
    const refused = await close(person.cookie);
    expect(refused.status).toBe(401);
    expect(await jsonOf(refused)).toMatchObject({ error: "reauth_required" });
    expect(await userRow(person.sub)).toMatchObject({ closureRequestedAt: null });

    const fresh = await mintSessionToken(keys.privateKey, { sub: person.sub, sid: newId("sess"), fva: [1, -1] });
    expect((await close(sessionCookie(fresh))).status).toBe(200);
    expect((await userRow(person.sub))?.closureRequestedAt).toEqual(expect.any(Number));
  });
});

describe("local password, TOTP and sign-up routes do not exist in Clerk mode", () => {
  it.each([
    ["/api/auth/sign-up", { email: "x@example.com", password: "correct horse battery" }],
    ["/api/auth/sign-in", { email: "x@example.com", password: "correct horse battery" }],
    ["/api/account/mfa/setup", undefined],
    ["/api/account/mfa/confirm", { code: "123456" }],
    ["/api/account/mfa/disable", { code: "123456" }],
    ["/api/account/reauth", { password: "correct horse battery" }],
  ])("POST %s answers 404 in the JSON error shape, even signed in", async (path, body) => {
    const person = await clerkPerson();
    const response = await request(path, { method: "POST", cookie: person.cookie, body, headers: { origin: ORIGIN } });
    expect(response.status).toBe(404);
    expect(await jsonOf(response)).toMatchObject({ error: "not_found", requestId: expect.any(String) as unknown });
    const control = await getControlDb();
    expect(await control.db.select().from(users)).toEqual([]);
  });
});

describe("ENCLAVE_SIGNUP applies to new Clerk users", () => {
  describe("closed", () => {
    useTempStore(clerkEnv(keys, api.url, { ENCLAVE_SIGNUP: "closed" }));
    it("refuses a new Clerk user with a 403 and creates no account; an existing account still links", async () => {
      const person = await clerkPerson("new@example.com");
      const refused = await listWorkspaces(person.cookie);
      expect(refused.status).toBe(403);
      expect(await jsonOf(refused)).toMatchObject({ error: "sign_up_closed" });
      expect(await userRow(person.sub)).toBeUndefined();
      const control = await getControlDb();
      await control.db.insert(users).values({ id: randomId("usr"), email: "old@example.com", passwordHash: "x", createdAt: Date.now() });
      const existing = await clerkPerson("old@example.com");
      expect((await listWorkspaces(existing.cookie)).status).toBe(200);
    });
  });

  describe("invite", () => {
    useTempStore(clerkEnv(keys, api.url, { ENCLAVE_SIGNUP: "invite" }));
    async function invite(email: string, overrides: Partial<typeof invitations.$inferInsert> = {}) {
      const control = await getControlDb();
      await control.db.insert(invitations).values({ id: randomId("inv"), tokenHash: randomBytes(32).toString("hex"), email, createdAt: Date.now(), expiresAt: Date.now() + 86_400_000, ...overrides });
    }

    it.each<[string, Partial<typeof invitations.$inferInsert> | null]>([
      ["no invitation", null],
      ["an invitation for another email", { email: "someone-else@example.com" }],
      ["an expired invitation", { expiresAt: Date.now() - 1 }],
      ["a revoked invitation", { revokedAt: Date.now() }],
      ["an invitation already used", { acceptedAt: Date.now() }],
    ])("refuses with %s", async (_name, overrides) => {
      const email = `${newId("inv")}@example.com`;
      if (overrides) await invite(overrides.email ?? email, overrides);
      const person = await clerkPerson(email);
      const refused = await listWorkspaces(person.cookie);
      expect(refused.status).toBe(403);
      expect(await jsonOf(refused)).toMatchObject({ error: "invitation_required" });
      expect(await userRow(person.sub)).toBeUndefined();
    });

    it("admits the email a pending invitation names", async () => {
      await invite("invited@example.com");
      const person = await clerkPerson("invited@example.com");
      expect((await listWorkspaces(person.cookie)).status).toBe(200);
      expect(await userRow(person.sub)).toMatchObject({ email: "invited@example.com" });
      const control = await getControlDb();
      expect(await control.db.select().from(memberships)).toEqual([]);
    });
  });
});
