import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { accessRequests, invitations } from "@/db/control/schema";
import { issueOperatorToken } from "@/lib/access/operator-token";
import { controlAuditLog } from "@/lib/audit/audit";
import { setConfigForTests } from "@/lib/config";
import { closeStore, getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { userInWorkspace } from "./api";
import { jsonOf, ORIGIN, request } from "./harness";
import { tokenOfLink } from "./invitations";
import { startSmtpServer } from "./smtp-server";
import { testConfig, useTempStore } from "./store";
import { runEnclave } from "./cli-helpers";

const store = useTempStore();
beforeEach(() => {
  resetRateLimits();
  configure();
});

/** This test's config: invite-only sign-up, plus whatever a test adds (Turnstile, SMTP). */
function configure(env: Record<string, string> = {}) {
  setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_SIGNUP: "invite", ...env }));
}

const ask = (body: Record<string, unknown>, ip = "198.51.100.10") => request("/api/access-requests", { body: { message: "Hello, I work with Ada.", ...body }, headers: { origin: ORIGIN }, ip });
const stored = async () => (await getControlDb()).db.select().from(accessRequests);

/** A fake Turnstile siteverify at the HTTP boundary: it records each form and answers as told. */
async function fakeTurnstile() {
  const forms: URLSearchParams[] = [];
  let answer: () => { status: number; body: string } = () => ({ status: 200, body: JSON.stringify({ success: true }) });
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      forms.push(new URLSearchParams(raw));
      const { status, body } = answer();
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`;
  return { url, forms, answer: (fn: typeof answer) => (answer = fn), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("request access", () => {
  it("stores a request and answers 202; the same answer for an existing account and a pending request, neither stored again", async () => {
    const first = await ask({ email: "newcomer@example.com" });
    expect(first.status).toBe(202);
    const answer = await jsonOf(first);
    const member = await userInWorkspace("", null);
    const forAccount = await ask({ email: member.user.email }, "198.51.100.11");
    const again = await ask({ email: "NEWCOMER@example.com" }, "198.51.100.12");
    for (const response of [forAccount, again]) {
      expect(response.status).toBe(202);
      expect(await jsonOf(response)).toEqual(answer);
    }
    const rows = await stored();
    expect(rows.map((row) => [row.email, row.status, row.message, row.ip])).toEqual([["newcomer@example.com", "pending", "Hello, I work with Ada.", "198.51.100.10"]]);
  });

  it("a filled honeypot gets exactly the success answer and stores nothing", async () => {
    const real = await jsonOf(await ask({ email: "person@example.com" }));
    await (await getControlDb()).db.delete(accessRequests).where(eq(accessRequests.email, "person@example.com"));
    const bot = await ask({ email: "bot@example.com", website: "http://spam.example" }, "198.51.100.20");
    expect(bot.status).toBe(202);
    expect(await jsonOf(bot)).toEqual(real);
    expect(await stored()).toEqual([]);
  });

  it("flooded from one IP: 429 past the budget, and nothing stored beyond it; one email from many IPs is capped too", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await ask({ email: `flood-${i}@example.com` }, "203.0.113.5")).status);
    expect(statuses.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
    expect(await stored()).toHaveLength(5);
    const perEmail: number[] = [];
    for (let i = 0; i < 5; i++) perEmail.push((await ask({ email: "same@example.com" }, `192.0.2.${i + 1}`)).status);
    expect(perEmail).toEqual([202, 202, 202, 429, 429]);
  });

  it("bad input is a 400 and stores nothing: a message over 500 characters or with control characters, a bad email", async () => {
    expect((await ask({ email: "long@example.com", message: "x".repeat(501) })).status).toBe(400);
    expect((await ask({ email: "not an email" })).status).toBe(400);
    // A terminal escape in what the operator's CLI prints is refused.
    expect((await ask({ email: "esc@example.com", message: "hi \u001b[2J there" })).status).toBe(400);
    expect((await ask({ email: "ok@example.com", message: "x".repeat(500) })).status).toBe(202);
    expect((await stored()).map((row) => row.email)).toEqual(["ok@example.com"]);
  });

  it("is not offered while sign-up is open (409: sign up instead)", async () => {
    configure({ ENCLAVE_SIGNUP: "open" });
    const response = await ask({ email: "x@example.com" });
    expect(response.status).toBe(409);
    expect((await jsonOf(response)).error).toBe("signup_open");
    expect(await stored()).toEqual([]);
  });

  describe("with Turnstile on", () => {
    let turnstile: Awaited<ReturnType<typeof fakeTurnstile>>;
    beforeAll(async () => {
      turnstile = await fakeTurnstile();
    });
    afterAll(() => turnstile.close());
    beforeEach(() => configure({ TURNSTILE_SITE_KEY: "site-key", TURNSTILE_SECRET_KEY: "secret-key", ENCLAVE_TURNSTILE_VERIFY_URL: turnstile.url }));

    it("verifies the token server-side with the secret, the response and the client IP; success stores", async () => {
      turnstile.answer(() => ({ status: 200, body: JSON.stringify({ success: true }) }));
      expect((await ask({ email: "human@example.com", turnstileToken: "widget-token" }, "198.51.100.30")).status).toBe(202);
      const form = turnstile.forms.at(-1)!;
      expect(Object.fromEntries(form)).toEqual({ secret: "secret-key", response: "widget-token", remoteip: "198.51.100.30" });
      expect((await stored()).map((row) => row.email)).toEqual(["human@example.com"]);
    });

    it("refuses a failed check (400), a missing token (400) and an unreachable or garbled siteverify (503): fail closed, nothing stored", async () => {
      turnstile.answer(() => ({ status: 200, body: JSON.stringify({ success: false, "error-codes": ["invalid-input-response"] }) }));
      const failed = await ask({ email: "a@example.com", turnstileToken: "bad" }, "198.51.100.31");
      expect([failed.status, (await jsonOf(failed)).error]).toEqual([400, "challenge_failed"]);
      const missing = await ask({ email: "b@example.com" }, "198.51.100.32");
      expect([missing.status, (await jsonOf(missing)).error]).toEqual([400, "challenge_failed"]);
      turnstile.answer(() => ({ status: 500, body: "oops" }));
      expect((await ask({ email: "c@example.com", turnstileToken: "t" }, "198.51.100.33")).status).toBe(503);
      turnstile.answer(() => ({ status: 200, body: "not json" }));
      expect((await ask({ email: "d@example.com", turnstileToken: "t" }, "198.51.100.34")).status).toBe(503);
      configure({ TURNSTILE_SITE_KEY: "site-key", TURNSTILE_SECRET_KEY: "secret-key", ENCLAVE_TURNSTILE_VERIFY_URL: "http://127.0.0.1:1/siteverify" });
      const unreachable = await ask({ email: "e@example.com", turnstileToken: "t" }, "198.51.100.35");
      expect([unreachable.status, (await jsonOf(unreachable)).error]).toEqual([503, "challenge_unavailable"]);
      expect(await stored()).toEqual([]);
    });
  });
});

describe("operators answer access requests", () => {
  const operatorCall = (token: string, path: string, method = "POST") => request(path, { token, method, ip: "127.0.0.1" });

  it("API: lists pending ones; approve issues a sign-up invitation whose link lets that email (only) sign up; decline sends nothing; both audited", async () => {
    await ask({ email: "yes@example.com" });
    await ask({ email: "no@example.com" }, "198.51.100.40");
    const { token } = await issueOperatorToken({ type: "system", id: "cli" });
    const listed = await jsonOf<{ items: { id: string; email: string }[] }>(await operatorCall(token, "/api/operator/access-requests", "GET"));
    expect(listed.items.map((i) => i.email)).toEqual(["yes@example.com", "no@example.com"]);
    const [yes, no] = listed.items;

    const approved = await operatorCall(token, `/api/operator/access-requests/${yes!.id}/approve`);
    expect(approved.status).toBe(200);
    const answer = await jsonOf<{ status: string; mailed: boolean; link: string; invitation: { id: string } }>(approved);
    expect(answer).toMatchObject({ status: "approved", mailed: false, changed: true });
    const [invitation] = await (await getControlDb()).db.select().from(invitations).where(eq(invitations.id, answer.invitation.id));
    expect(invitation).toMatchObject({ email: "yes@example.com", workspaceId: null, role: null, invitedBy: null });
    // Approving again changes nothing and shows no new link; declining it now is a 409.
    expect(await jsonOf(await operatorCall(token, `/api/operator/access-requests/${yes!.id}/approve`))).toMatchObject({ changed: false, link: null, invitation: { id: answer.invitation.id } });
    expect((await operatorCall(token, `/api/operator/access-requests/${yes!.id}/decline`)).status).toBe(409);

    expect(await jsonOf(await operatorCall(token, `/api/operator/access-requests/${no!.id}/decline`))).toMatchObject({ status: "declined", invitation: null, link: null });
    expect((await operatorCall(token, "/api/operator/access-requests/acr_nope/approve")).status).toBe(404);
    expect((await jsonOf<{ items: unknown[] }>(await operatorCall(token, "/api/operator/access-requests", "GET"))).items).toEqual([]);
    // Neither a stranger nor a portal session gets there.
    expect((await request("/api/operator/access-requests", { ip: "127.0.0.1" })).status).toBe(401);

    const signUp = (email: string) => request("/api/auth/sign-up", { body: { email, password: "correct horse battery", invitation: tokenOfLink(answer.link) }, headers: { origin: ORIGIN } });
    expect((await signUp("no@example.com")).status).toBe(403);
    expect((await signUp("yes@example.com")).status).toBe(201);
    const actions = (await (await getControlDb()).db.select().from(controlAuditLog)).map((row) => [row.action, row.target]);
    expect(actions).toEqual(expect.arrayContaining([["access_request.approved", yes!.id], ["access_request.declined", no!.id], ["invitation.created", answer.invitation.id]]));
  });

  it("API with mail on: the approval mails the sign-up link and returns none", async () => {
    const smtp = await startSmtpServer();
    try {
      configure({ ENCLAVE_SMTP_URL: smtp.url });
      await ask({ email: "mailme@example.com" });
      const [row] = await stored();
      const { token } = await issueOperatorToken({ type: "system", id: "cli" });
      const answer = await jsonOf(await operatorCall(token, `/api/operator/access-requests/${row!.id}/approve`));
      expect(answer).toMatchObject({ mailed: true, link: null });
      const mail = await smtp.waitFor((m) => m.to.includes("mailme@example.com"));
      expect(mail.text).toMatch(/\/invite\?token=enc_inv_/);
    } finally {
      await smtp.close();
    }
  });

  it("CLI: list, approve (prints the link last) and decline, on the same data", async () => {
    await ask({ email: "cli-yes@example.com" });
    await ask({ email: "cli-no@example.com" }, "198.51.100.41");
    await closeStore();
    const enclave = (...args: string[]) => runEnclave(store.dataDir(), args, { env: { ENCLAVE_SIGNUP: "invite" } });
    const list = enclave("access-requests", "list");
    expect(list.status).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines.map((line) => line.split("\t")[2])).toEqual(["cli-yes@example.com", "cli-no@example.com"]);
    const [yesId, noId] = lines.map((line) => line.split("\t")[0]!);
    const approved = enclave("access-requests", "approve", yesId!);
    expect(approved.status).toBe(0);
    expect(approved.stdout.split("\n").at(-1)).toMatch(/^http:\/\/localhost:3000\/invite\?token=enc_inv_/);
    expect(enclave("access-requests", "decline", noId!)).toMatchObject({ status: 0, stdout: `declined ${noId}` });
    expect(enclave("access-requests", "list").stdout).toBe("");
    expect(enclave("access-requests", "list", "--status", "declined").stdout).toContain("cli-no@example.com");
    expect(enclave("access-requests", "decline", "acr_nope").status).toBe(1);
    expect(enclave("access-requests", "frobnicate").status).toBe(2);
    expect(enclave("access-requests", "approve").status).toBe(2);
    const statuses = (await stored()).map((row) => [row.email, row.status]);
    expect(statuses).toEqual([["cli-yes@example.com", "approved"], ["cli-no@example.com", "declined"]]);
  });
});
