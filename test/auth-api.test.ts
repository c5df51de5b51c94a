import { beforeEach, describe, expect, it } from "vitest";
import { generate } from "otplib";
import { confirmTotpSetup, startTotpSetup } from "@/lib/auth/mfa";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { controlAuditLog, verifyAuditChain } from "@/lib/audit/audit";
import { getControlDb } from "@/lib/db/store";
import { useTempStore } from "./store";
import { ORIGIN, request, sessionCookieFrom, type RequestOptions } from "./harness";

useTempStore();
beforeEach(() => resetRateLimits());

const alice = { email: "alice@example.com", password: "correct horse battery" };

/** The portal's own pages calling: a same-origin browser, signed in or not. */
const fromPortal = (pathname: string, options: RequestOptions = {}) => request(pathname, { ...options, headers: { origin: ORIGIN, ...options.headers } });
const signUp = (options: RequestOptions) => fromPortal("/api/auth/sign-up", { method: "POST", ...options });
const signIn = (body: unknown) => fromPortal("/api/auth/sign-in", { body });
const signOut = (options: RequestOptions) => fromPortal("/api/auth/sign-out", { method: "POST", ...options });
const listWorkspaces = (cookie: string) => fromPortal("/api/workspaces", { cookie });

async function signedUp(credentials = alice): Promise<string> {
  const response = await signUp({ body: credentials });
  expect(response.status).toBe(201);
  return sessionCookieFrom(response);
}

async function auditActions(): Promise<string[]> {
  const control = await getControlDb();
  const rows = await control.db.select({ action: controlAuditLog.action }).from(controlAuditLog);
  return rows.map((row) => row.action);
}

describe("sign-up, sign-in, sign-out", () => {
  it("signs up, lists nothing, creates a workspace, and lists it", async () => {
    const cookie = await signedUp();
    expect(await (await listWorkspaces(cookie)).json()).toEqual({ workspaces: [], deleted: [] });
    const created = await fromPortal("/api/workspaces", { cookie, body: { name: "Research" } });
    expect(created.status).toBe(201);
    const { workspaces } = (await (await listWorkspaces(cookie)).json()) as { workspaces: { name: string }[] };
    expect(workspaces.map((w) => w.name)).toEqual(["Research"]);
    expect(await auditActions()).toEqual(["user.sign_up", "workspace.create"]);
  });

  it("refuses the old cookie after sign-out", async () => {
    const cookie = await signedUp();
    const out = await signOut({ cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const replay = await listWorkspaces(cookie);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: "unauthenticated" });
    expect(await auditActions()).toContain("user.sign_out");
  });

  it("answers an unknown email and a wrong password with the same words", async () => {
    await signedUp();
    const unknown = await signIn({ email: "nobody@example.com", password: alice.password });
    const wrong = await signIn({ email: alice.email, password: "not the password" });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const [a, b] = [(await unknown.json()) as Record<string, string>, (await wrong.json()) as Record<string, string>];
    expect(a.error).toBe("invalid_credentials");
    expect(b.error).toBe("invalid_credentials");
    expect(a.message).toBe(b.message);
    expect((await auditActions()).filter((action) => action === "user.sign_in_failed")).toHaveLength(2);
  });

  it("signs in with a fresh session id, not the sign-up one", async () => {
    const first = await signedUp();
    const second = sessionCookieFrom(await signIn(alice));
    expect(second).not.toBe(first);
    expect((await listWorkspaces(second)).status).toBe(200);
  });

  it("refuses a duplicate email with 409 and keeps one account", async () => {
    await signedUp();
    const again = await signUp({ body: { ...alice, email: "ALICE@example.com " } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: "email_taken" });
    const control = await getControlDb();
    expect(await control.db.query.users.findMany()).toHaveLength(1);
  });

  it("refuses a short password with the field named and creates nothing", async () => {
    const response = await signUp({ body: { email: "bob@example.com", password: "short" } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; fieldErrors: Record<string, string[]> };
    expect(body.error).toBe("invalid_request");
    expect(body.fieldErrors.password?.[0]).toMatch(/12 characters/);
    const control = await getControlDb();
    expect(await control.db.query.users.findMany()).toHaveLength(0);
  });

  it("rate-limits failed sign-ins per account with 429 and Retry-After", async () => {
    await signedUp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await signIn({ email: alice.email, password: `wrong password ${i}` })).status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    const limited = await signIn(alice);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: "rate_limited" });
  });

  it("asks for the second factor once MFA is on, and refuses a wrong one", async () => {
    await signedUp();
    const control = await getControlDb();
    const user = (await control.db.query.users.findFirst())!;
    const { secret } = await startTotpSetup(user.id, user.email);
    const enabledAt = Date.now() - 30_000; // so the current step's code is fresh at sign-in
    await confirmTotpSetup(user.id, await generate({ secret, epoch: Math.floor(enabledAt / 1000) }), enabledAt);

    const withoutCode = await signIn(alice);
    expect(withoutCode.status).toBe(401);
    expect(withoutCode.headers.get("set-cookie")).toBeNull();
    expect(await withoutCode.json()).toMatchObject({ error: "mfa_required" });
    const wrongCode = await signIn({ ...alice, code: "000000" });
    expect(wrongCode.status).toBe(401);
    expect(await wrongCode.json()).toMatchObject({ error: "invalid_mfa_code" });
    const rightCode = await signIn({ ...alice, code: await generate({ secret }) });
    expect(rightCode.status).toBe(200);
    expect(sessionCookieFrom(rightCode)).toMatch(/enclave_session=/);
  });

  it("rate-limits sign-ups per IP with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await signUp({ body: { email: `user${i}@example.com`, password: alice.password } })).status);
    }
    expect(statuses.slice(0, 20).every((status) => status === 201)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it("keeps the control audit chain valid across the flow", async () => {
    const cookie = await signedUp();
    await signIn({ ...alice, password: "wrong wrong wrong" });
    await signOut({ cookie });
    const control = await getControlDb();
    expect(await verifyAuditChain(control.db, controlAuditLog)).toEqual({ ok: true, rows: 3 });
  });
});

describe("what a client can send never becomes a 500", () => {
  it("malformed JSON is a 400 with the error shape", async () => {
    const response = await signUp({ rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe("malformed_json");
    expect(body.requestId).toEqual(expect.any(String));
  });

  it("an oversized body is a 413 and creates nothing", async () => {
    const response = await signUp({ body: { email: "big@example.com", password: "x".repeat(2 * 1024 * 1024) } });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: "payload_too_large" });
    const control = await getControlDb();
    expect(await control.db.query.users.findMany()).toHaveLength(0);
  });

  it("a form-encoded body is a 415", async () => {
    const response = await signUp({ rawBody: "email=a@b.c", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: "unsupported_media_type" });
  });

  it("a body of the wrong shape is a 400", async () => {
    for (const body of [null, [], "text", { email: 5, password: {} }]) {
      const response = await signUp({ body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
  });

  it("a method a route does not serve is a JSON 405 naming the allowed one", async () => {
    const response = await fromPortal("/api/auth/sign-in");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ error: "method_not_allowed" });
  });

  it("an unknown API route is a JSON 404", async () => {
    const response = await fromPortal("/api/no/such/route");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });

  it("health answers ok once the control database is open", async () => {
    const response = await fromPortal("/api/health");
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("cross-site requests are refused", () => {
  it("a sign-up posted from another origin is a 403 and creates nothing", async () => {
    const response = await signUp({ body: alice, headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "forbidden_origin" });
    const control = await getControlDb();
    expect(await control.db.query.users.findMany()).toHaveLength(0);
  });

  it("a workspace creation from another origin is a 403 even with a valid cookie", async () => {
    const cookie = await signedUp();
    const response = await fromPortal("/api/workspaces", { cookie, body: { name: "Evil" }, headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "forbidden_origin" });
    expect(await (await listWorkspaces(cookie)).json()).toEqual({ workspaces: [], deleted: [] });
  });

  it("a cross-site request without Origin but with Sec-Fetch-Site is a 403", async () => {
    const cookie = await signedUp();
    const response = await signOut({ cookie, headers: { origin: "", "sec-fetch-site": "cross-site" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "forbidden_origin" });
    expect((await listWorkspaces(cookie)).status).toBe(200);
  });
});
