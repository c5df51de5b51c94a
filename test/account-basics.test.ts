import { eq } from "drizzle-orm";
import { generate } from "otplib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { emailTokens, knownDevices, sessions, users } from "@/db/control/schema";
import { controlAuditLog, verifyAuditChain } from "@/lib/audit/audit";
import { confirmTotpSetup, startTotpSetup } from "@/lib/auth/mfa";
import { verifyPassword } from "@/lib/auth/password";
import { createUser } from "@/lib/auth/users";
import { setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { closeAccount } from "@/lib/lifecycle/closure";
import { purgeAccount } from "@/lib/lifecycle/purge";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { ORIGIN, jsonOf, request, sessionCookieFrom, type RequestOptions } from "./harness";
import { startSmtpServer, type ReceivedMail } from "./smtp-server";
import { testConfig, useTempStore } from "./store";

// The SMTP server's URL is known only once it listens: useTempStore reads this object at each test's start.
const env: Record<string, string> = {};
const store = useTempStore(env);

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  smtp = await startSmtpServer();
  env.ENCLAVE_SMTP_URL = smtp.url;
});
afterAll(() => smtp.close());
beforeEach(() => {
  resetRateLimits();
  smtp.received.length = 0;
});

const FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const FIREFOX_LINUX_NEWER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a brand new passphrase";

const portal = (pathname: string, options: RequestOptions = {}) => request(pathname, { ...options, headers: { origin: ORIGIN, "user-agent": FIREFOX_LINUX, ...options.headers } });

async function signUp(email: string, userAgent = FIREFOX_LINUX): Promise<{ cookie: string; userId: string }> {
  const response = await portal("/api/auth/sign-up", { body: { email, password: PASSWORD }, headers: { "user-agent": userAgent } });
  expect(response.status).toBe(201);
  const { user } = await jsonOf<{ user: { id: string } }>(response);
  return { cookie: sessionCookieFrom(response), userId: user.id };
}

const signIn = (email: string, password = PASSWORD, userAgent = FIREFOX_LINUX, code?: string) =>
  portal("/api/auth/sign-in", { body: { email, password, ...(code ? { code } : {}) }, headers: { "user-agent": userAgent } });

async function signedIn(email: string, userAgent = FIREFOX_LINUX): Promise<string> {
  const response = await signIn(email, PASSWORD, userAgent);
  expect(response.status).toBe(200);
  return sessionCookieFrom(response);
}

const works = async (cookie: string) => (await portal("/api/workspaces", { cookie })).status === 200;
const changePassword = (cookie: string, body: unknown) => portal("/api/account/password", { cookie, body });
const forgot = (email: string, ip?: string) => portal("/api/auth/forgot-password", { body: { email }, ip });
const reset = (token: string, password = NEW_PASSWORD) => portal("/api/auth/reset-password", { body: { token, password } });

async function storedUser(email: string) {
  const control = await getControlDb();
  return (await control.db.query.users.findFirst({ where: eq(users.email, email) }))!;
}

async function auditActions(action: string) {
  const control = await getControlDb();
  return control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, action));
}

const mailTo = (to: string, subject: RegExp) => (mail: ReceivedMail) => mail.to.includes(to) && subject.test(mail.subject);
const tokenIn = (mail: ReceivedMail, path: string) => new RegExp(`${ORIGIN}${path}\\?token=(enc_\\w\\w_[A-Za-z0-9_-]+)`).exec(mail.text)?.[1] ?? "";

async function resetLink(email: string): Promise<string> {
  const before = smtp.received.length;
  expect((await forgot(email)).status).toBe(200);
  const mail = await smtp.waitFor((m) => smtp.received.indexOf(m) >= before && mailTo(email, /Reset your Enclave password/)(m));
  const token = tokenIn(mail, "/reset-password");
  expect(token).toMatch(/^enc_pr_/);
  return token;
}

async function turnOnMfa(email: string): Promise<string> {
  const user = await storedUser(email);
  const { secret } = await startTotpSetup(user.id, user.email);
  const enabledAt = Date.now() - 60_000; // so the current step's code is still unused
  await confirmTotpSetup(user.id, await generate({ secret, epoch: Math.floor(enabledAt / 1000) }), enabledAt);
  return secret;
}

describe("changing the password", () => {
  it("refuses a wrong current password: 401, nothing changed, no session ended", async () => {
    const { cookie } = await signUp("ada@example.com");
    const other = await signedIn("ada@example.com");
    const before = await storedUser("ada@example.com");
    const response = await changePassword(cookie, { currentPassword: "not my password", newPassword: NEW_PASSWORD });
    expect(response.status).toBe(401);
    expect(await jsonOf(response)).toMatchObject({ error: "invalid_credentials", fieldErrors: { currentPassword: [expect.any(String)] } });
    expect(response.headers.get("set-cookie")).toBeNull();
    expect((await storedUser("ada@example.com")).passwordHash).toBe(before.passwordHash);
    expect([await works(cookie), await works(other)]).toEqual([true, true]);
    expect(await auditActions("account.password_change_failed")).toHaveLength(1);
    expect(await auditActions("account.password_changed")).toHaveLength(0);
  });

  it("refuses a new password the sign-up rules refuse, with the field named", async () => {
    const { cookie } = await signUp("ada@example.com");
    const response = await changePassword(cookie, { currentPassword: PASSWORD, newPassword: "short" });
    expect(response.status).toBe(400);
    expect((await jsonOf<{ fieldErrors: Record<string, string[]> }>(response)).fieldErrors.newPassword?.[0]).toMatch(/12 characters/);
    expect(await verifyPassword((await storedUser("ada@example.com")).passwordHash, PASSWORD)).toBe(true);
  });

  it("asks for the second factor when MFA is on and refuses a wrong one, changing nothing", async () => {
    const { cookie } = await signUp("ada@example.com");
    const secret = await turnOnMfa("ada@example.com");
    const before = (await storedUser("ada@example.com")).passwordHash;
    const noCode = await changePassword(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(await jsonOf(noCode)).toMatchObject({ error: "mfa_required" });
    const wrongCode = await changePassword(cookie, { currentPassword: PASSWORD, code: "000000", newPassword: NEW_PASSWORD });
    expect(wrongCode.status).toBe(401);
    expect(await jsonOf(wrongCode)).toMatchObject({ error: "invalid_mfa_code" });
    expect((await storedUser("ada@example.com")).passwordHash).toBe(before);
    const right = await changePassword(cookie, { currentPassword: PASSWORD, code: await generate({ secret }), newPassword: NEW_PASSWORD });
    expect(right.status).toBe(200);
  });

  it("ends every other session, keeps this one under a new id, and mails a notice", async () => {
    const { cookie } = await signUp("ada@example.com");
    const laptop = await signedIn("ada@example.com");
    const phone = await signedIn("ada@example.com", CHROME_WINDOWS);
    const response = await changePassword(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ changed: true, sessionsEnded: 2 });
    const rotated = sessionCookieFrom(response);
    expect(rotated).not.toBe(cookie);
    // The copy of the cookie from before the change opens nothing; the new one does.
    expect([await works(laptop), await works(phone), await works(cookie), await works(rotated)]).toEqual([false, false, false, true]);
    expect((await signIn("ada@example.com")).status).toBe(401);
    expect((await signIn("ada@example.com", NEW_PASSWORD)).status).toBe(200);
    const [row] = await auditActions("account.password_changed");
    expect(JSON.parse(row!.details)).toEqual({ sessionsEnded: 2 });
    const notice = await smtp.waitFor(mailTo("ada@example.com", /password was changed/));
    expect(notice.text).not.toContain(NEW_PASSWORD);
    expect(notice.text).toMatch(/From address: 127\.0\.0\.1/);
  });

  it("shares sign-in's brake on failures per account: no side door for guessing the password", async () => {
    const { cookie } = await signUp("ada@example.com");
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await changePassword(cookie, { currentPassword: `guess number ${i}`, newPassword: NEW_PASSWORD })).status);
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    // Sign-in with the right password is braked too, until the window passes.
    expect((await signIn("ada@example.com")).status).toBe(429);
  });

  it("needs a signed-in session", async () => {
    const response = await portal("/api/account/password", { body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
    expect(response.status).toBe(401);
  });
});

describe("forgot password", () => {
  it("answers an existing and an unknown email with the same status and words, and mails only the account", async () => {
    await signUp("ada@example.com");
    const unknown = await forgot("nobody@example.com");
    const known = await forgot("ada@example.com");
    expect(unknown.status).toBe(200);
    expect(known.status).toBe(200);
    expect(await unknown.text()).toBe(await known.text());
    await smtp.waitFor(mailTo("ada@example.com", /Reset/));
    expect(smtp.received.some((mail) => mail.to.includes("nobody@example.com"))).toBe(false);
    // Both asks are in the trail, the unknown one with no target.
    const rows = await auditActions("account.password_reset_requested");
    expect(rows.map((row) => row.target === null)).toEqual([true, false]);
  });

  it("stores only the link's hash", async () => {
    await signUp("ada@example.com");
    const token = await resetLink("ada@example.com");
    const control = await getControlDb();
    expect(JSON.stringify(await control.db.select().from(emailTokens))).not.toContain(token);
  });

  it("resets with the link once: every session ends, the old password stops, a notice goes out; the link again is refused", async () => {
    const { cookie } = await signUp("ada@example.com");
    const other = await signedIn("ada@example.com", CHROME_WINDOWS);
    const token = await resetLink("ada@example.com");
    const response = await reset(token);
    expect(response.status).toBe(200);
    expect([await works(cookie), await works(other)]).toEqual([false, false]);
    expect((await signIn("ada@example.com")).status).toBe(401);
    expect((await signIn("ada@example.com", NEW_PASSWORD)).status).toBe(200);
    await smtp.waitFor(mailTo("ada@example.com", /password was reset/));
    expect(await auditActions("account.password_reset")).toHaveLength(1);

    const again = await reset(token, "yet another passphrase");
    expect(again.status).toBe(400);
    expect(await jsonOf(again)).toMatchObject({ error: "invalid_token" });
    expect((await signIn("ada@example.com", NEW_PASSWORD)).status).toBe(200);
  });

  it("refuses an expired link and changes nothing", async () => {
    await signUp("ada@example.com");
    const token = await resetLink("ada@example.com");
    const control = await getControlDb();
    await control.db.update(emailTokens).set({ expiresAt: Date.now() - 1 }).where(eq(emailTokens.purpose, "password_reset"));
    const before = (await storedUser("ada@example.com")).passwordHash;
    expect((await reset(token)).status).toBe(400);
    expect((await storedUser("ada@example.com")).passwordHash).toBe(before);
  });

  it("a newer request supersedes the older link", async () => {
    await signUp("ada@example.com");
    const first = await resetLink("ada@example.com");
    const second = await resetLink("ada@example.com");
    expect(second).not.toBe(first);
    expect((await reset(first)).status).toBe(400);
    expect((await reset(second)).status).toBe(200);
  });

  it("a link resets only the account it was sent for; a verification link, a made-up or a tampered token resets nothing", async () => {
    await signUp("ada@example.com");
    await signUp("bob@example.com");
    const verification = tokenIn(await smtp.waitFor(mailTo("bob@example.com", /Confirm your email/)), "/verify-email");
    expect(verification).toMatch(/^enc_ev_/);
    const token = await resetLink("ada@example.com");
    const bobBefore = (await storedUser("bob@example.com")).passwordHash;
    for (const bad of [verification, `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`, "enc_pr_" + "x".repeat(49), "not a token"]) {
      const response = await reset(bad);
      expect(response.status, bad).toBe(400);
      expect(await jsonOf(response)).toMatchObject({ error: "invalid_token" });
    }
    expect((await reset(token)).status).toBe(200);
    expect((await storedUser("bob@example.com")).passwordHash).toBe(bobBefore);
    expect(await verifyPassword((await storedUser("bob@example.com")).passwordHash, PASSWORD)).toBe(true);
    expect(await verifyPassword((await storedUser("ada@example.com")).passwordHash, NEW_PASSWORD)).toBe(true);
  });

  it("a link from before an account was closed and erased does not open the account signed up next with that email", async () => {
    const { userId } = await signUp("ada@example.com");
    const token = await resetLink("ada@example.com");
    await closeAccount(userId, { type: "system", id: "test" }, { holdDays: 0 });
    await purgeAccount(userId, Number.MAX_SAFE_INTEGER, { type: "system", id: "test" });
    const control = await getControlDb();
    expect([await control.db.$count(emailTokens), await control.db.$count(knownDevices)]).toEqual([0, 0]);
    const again = await signUp("ada@example.com");
    expect(again.userId).toBe(userId);
    expect((await reset(token)).status).toBe(400);
    expect(await verifyPassword((await storedUser("ada@example.com")).passwordHash, PASSWORD)).toBe(true);
  });

  it("keeps MFA on after a reset: the mailbox alone does not sign in", async () => {
    await signUp("ada@example.com");
    await turnOnMfa("ada@example.com");
    expect((await reset(await resetLink("ada@example.com"))).status).toBe(200);
    const response = await signIn("ada@example.com", NEW_PASSWORD);
    expect(await jsonOf(response)).toMatchObject({ error: "mfa_required" });
  });

  it("is rate-limited per email (known or not, alike) and per IP", async () => {
    await signUp("ada@example.com");
    for (const email of ["ada@example.com", "nobody@example.com"]) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await forgot(email, "10.0.0.1")).status);
      expect(statuses, email).toEqual([200, 200, 200, 429]);
    }
    resetRateLimits();
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await forgot(`person${i}@example.com`, "10.0.0.2")).status);
    expect(statuses.slice(0, 10).every((status) => status === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("refuses a cross-site post", async () => {
    await signUp("ada@example.com");
    const response = await portal("/api/auth/forgot-password", { body: { email: "ada@example.com" }, headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(await auditActions("account.password_reset_requested")).toHaveLength(0);
  });
});

describe("email verification", () => {
  it("mails a link at sign-up that verifies the email once", async () => {
    await signUp("ada@example.com");
    expect((await storedUser("ada@example.com")).emailVerifiedAt).toBeNull();
    const token = tokenIn(await smtp.waitFor(mailTo("ada@example.com", /Confirm your email/)), "/verify-email");
    const response = await portal("/api/auth/verify-email", { body: { token } });
    expect(response.status).toBe(200);
    expect((await storedUser("ada@example.com")).emailVerifiedAt).toEqual(expect.any(Number));
    const again = await portal("/api/auth/verify-email", { body: { token } });
    expect(again.status).toBe(400);
    expect(await auditActions("account.email_verified")).toHaveLength(1);
  });

  it("resends a link that supersedes the first, and refuses a resend once verified", async () => {
    const { cookie } = await signUp("ada@example.com");
    const first = tokenIn(await smtp.waitFor(mailTo("ada@example.com", /Confirm your email/)), "/verify-email");
    expect((await portal("/api/account/email/verification", { cookie, method: "POST" })).status).toBe(200);
    const second = tokenIn(smtp.received.filter(mailTo("ada@example.com", /Confirm your email/))[1]!, "/verify-email");
    expect(second).not.toBe(first);
    expect((await portal("/api/auth/verify-email", { body: { token: first } })).status).toBe(400);
    expect((await storedUser("ada@example.com")).emailVerifiedAt).toBeNull();
    expect((await portal("/api/auth/verify-email", { body: { token: second } })).status).toBe(200);
    const resend = await portal("/api/account/email/verification", { cookie, method: "POST" });
    expect(resend.status).toBe(409);
    expect(await jsonOf(resend)).toMatchObject({ error: "already_verified" });
  });

  it("refuses a reset link as a verification link", async () => {
    await signUp("ada@example.com");
    const token = await resetLink("ada@example.com");
    expect((await portal("/api/auth/verify-email", { body: { token } })).status).toBe(400);
    expect((await storedUser("ada@example.com")).emailVerifiedAt).toBeNull();
  });
});

describe("active sessions", () => {
  type Listed = { id: string; device: string; ip: string | null; lastSeenAt: number; current: boolean };
  const list = async (cookie: string) => (await jsonOf<{ sessions: Listed[] }>(await portal("/api/account/sessions", { cookie }))).sessions;
  const endOne = (cookie: string, id: string) => portal(`/api/account/sessions/${encodeURIComponent(id)}`, { cookie, method: "DELETE" });

  it("lists each session with its device, address and which is this one", async () => {
    const { cookie } = await signUp("ada@example.com");
    await signedIn("ada@example.com", CHROME_WINDOWS);
    const listed = await list(cookie);
    expect(listed).toHaveLength(2);
    expect(listed.map((s) => s.device).sort()).toEqual(["Chrome on Windows", "Firefox on Linux"]);
    expect(listed.filter((s) => s.current).map((s) => s.device)).toEqual(["Firefox on Linux"]);
    expect(listed.every((s) => s.ip === "127.0.0.1")).toBe(true);
    expect(JSON.stringify(listed)).not.toMatch(/enc_ss_|token/i);
  });

  it("signs out one session; another person's session id is a 404 and theirs stays", async () => {
    const ada = await signUp("ada@example.com");
    const adaPhone = await signedIn("ada@example.com", CHROME_WINDOWS);
    const bob = await signUp("bob@example.com");
    const [bobSession] = await list(bob.cookie);
    const refused = await endOne(ada.cookie, bobSession!.id);
    expect(refused.status).toBe(404);
    expect(await jsonOf(refused)).toMatchObject({ error: "not_found" });
    expect(await works(bob.cookie)).toBe(true);
    expect((await endOne(ada.cookie, "ses_made_up")).status).toBe(404);

    const phone = (await list(ada.cookie)).find((s) => !s.current)!;
    expect((await endOne(ada.cookie, phone.id)).status).toBe(204);
    expect([await works(adaPhone), await works(ada.cookie)]).toEqual([false, true]);
    expect((await endOne(ada.cookie, phone.id)).status).toBe(404);
    expect(await auditActions("session.revoke")).toHaveLength(1);
  });

  it("signing out the current session clears its cookie", async () => {
    const { cookie } = await signUp("ada@example.com");
    const [current] = await list(cookie);
    const response = await endOne(cookie, current!.id);
    expect(response.status).toBe(204);
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect(await works(cookie)).toBe(false);
  });

  it("signs out everywhere else, keeping this session, and leaves other people's alone", async () => {
    const { cookie } = await signUp("ada@example.com");
    const others = [await signedIn("ada@example.com"), await signedIn("ada@example.com", CHROME_WINDOWS)];
    const bob = await signUp("bob@example.com");
    const response = await portal("/api/account/sessions/end-others", { cookie, method: "POST" });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ ended: 2 });
    expect([await works(cookie), ...(await Promise.all(others.map(works))), await works(bob.cookie)]).toEqual([true, false, false, true]);
    expect((await list(cookie)).map((s) => s.current)).toEqual([true]);
    expect(await auditActions("session.revoke_all")).toHaveLength(1);
  });
});

describe("security notices", () => {
  const newDeviceMails = (email: string) => smtp.received.filter(mailTo(email, /new sign-in/));

  it("mails a new-device notice once; not at sign-up, not for a known device, not for a browser update", async () => {
    await signUp("ada@example.com", FIREFOX_LINUX);
    await signedIn("ada@example.com", FIREFOX_LINUX);
    await signedIn("ada@example.com", FIREFOX_LINUX_NEWER);
    expect(newDeviceMails("ada@example.com")).toHaveLength(0);
    await signedIn("ada@example.com", CHROME_WINDOWS);
    const notice = await smtp.waitFor(mailTo("ada@example.com", /new sign-in/));
    expect(notice.text).toContain("Chrome on Windows");
    await signedIn("ada@example.com", CHROME_WINDOWS);
    expect(newDeviceMails("ada@example.com")).toHaveLength(1);
    // The device table keeps hashes, never the browser's name.
    const control = await getControlDb();
    const rows = await control.db.select().from(knownDevices);
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toMatch(/Chrome|Firefox|Linux|Windows/);
  });

  it("an account the operator made: its first sign-in is no notice, the next new device is", async () => {
    await createUser({ email: "ada@example.com", password: PASSWORD }, { type: "system", id: "cli" });
    await signedIn("ada@example.com", CHROME_WINDOWS);
    expect(newDeviceMails("ada@example.com")).toHaveLength(0);
    await signedIn("ada@example.com", FIREFOX_LINUX);
    expect(newDeviceMails("ada@example.com")).toHaveLength(1);
  });

  it("a mail server that cannot be reached fails no request", async () => {
    const { cookie } = await signUp("ada@example.com");
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_SMTP_URL: "smtp://127.0.0.1:1" }));
    const changed = await changePassword(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    expect((await signIn("ada@example.com", NEW_PASSWORD, CHROME_WINDOWS)).status).toBe(200);
    expect((await forgot("ada@example.com")).status).toBe(200);
    expect(await auditActions("account.password_changed")).toHaveLength(1);
  });

  it("a failed sign-in from a new device records nothing and mails nothing", async () => {
    await signUp("ada@example.com");
    expect((await signIn("ada@example.com", "wrong password!", CHROME_WINDOWS)).status).toBe(401);
    const control = await getControlDb();
    expect(await control.db.$count(knownDevices)).toBe(1);
    expect(newDeviceMails("ada@example.com")).toHaveLength(0);
  });

  it("mails a notice when MFA is turned off", async () => {
    const { cookie } = await signUp("ada@example.com");
    const secret = await turnOnMfa("ada@example.com");
    const response = await portal("/api/account/mfa/disable", { cookie, body: { code: await generate({ secret }) } });
    expect(response.status).toBe(200);
    await smtp.waitFor(mailTo("ada@example.com", /Two-factor authentication was turned off/));
  });

  it("keeps the audit chain valid through all of it", async () => {
    const { cookie } = await signUp("ada@example.com");
    await changePassword(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await reset(await resetLink("ada@example.com"), "the third passphrase");
    const control = await getControlDb();
    expect((await verifyAuditChain(control.db, controlAuditLog)).ok).toBe(true);
    expect(await control.db.$count(sessions)).toBe(0);
  });
});
