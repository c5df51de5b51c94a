import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { sessions, users } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { verifyPassword } from "@/lib/auth/password";
import { createSession } from "@/lib/auth/sessions";
import { createUser } from "@/lib/auth/users";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { ORIGIN, jsonOf, request, sessionCookieFrom } from "./harness";
import { useTempStore } from "./store";
import { runEnclave } from "./cli-helpers";

// No ENCLAVE_SMTP_URL: the embedded default, where a reset is the operator's job.
const store = useTempStore();
beforeEach(() => resetRateLimits());

const PASSWORD = "correct horse battery";

/** The real `enclave` command on this test's data dir, the new password on stdin. */
const enclave = (args: string[], input = "") => runEnclave(store.dataDir(), args, { input });

async function storedUser(email: string) {
  const control = await getControlDb();
  return (await control.db.query.users.findFirst({ where: eq(users.email, email) }))!;
}

describe("without SMTP", () => {
  it("forgot-password says to ask the operator and sends nothing; resending a verification is refused the same way", async () => {
    const signUp = await request("/api/auth/sign-up", { body: { email: "ada@example.com", password: PASSWORD }, headers: { origin: ORIGIN } });
    expect(signUp.status).toBe(201);
    const cookie = sessionCookieFrom(signUp);
    for (const email of ["ada@example.com", "nobody@example.com"]) {
      const response = await request("/api/auth/forgot-password", { body: { email }, headers: { origin: ORIGIN } });
      expect(response.status).toBe(409);
      const body = await jsonOf<{ error: string; message: string }>(response);
      expect(body.error).toBe("mail_disabled");
      expect(body.message).toMatch(/ask its operator/);
    }
    const resend = await request("/api/account/email/verification", { cookie, method: "POST" });
    expect(await jsonOf(resend)).toMatchObject({ error: "mail_disabled" });
    const control = await getControlDb();
    expect(await control.db.query.emailTokens.findMany()).toEqual([]);
  });
});

describe("enclave user reset-password", () => {
  it("sets the new password from stdin, ends every session, and is audited as the operator", { timeout: 120_000 }, async () => {
    const user = await createUser({ email: "ada@example.com", password: PASSWORD });
    await createSession(user.id);
    await createSession(user.id);
    const result = enclave(["user", "reset-password", "--email", "ada@example.com", "--password-stdin"], "a brand new passphrase\n");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("reset the password of ada@example.com: 2 sessions ended");
    const after = await storedUser("ada@example.com");
    expect(await verifyPassword(after.passwordHash, "a brand new passphrase")).toBe(true);
    const control = await getControlDb();
    expect(await control.db.$count(sessions, eq(sessions.userId, user.id))).toBe(0);
    const [row] = await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "account.password_reset"));
    expect(row).toMatchObject({ actorType: "system", target: user.id });
    expect(JSON.parse(row!.details)).toEqual({ via: "operator", sessionsEnded: 2 });
    expect(row!.details).not.toContain("passphrase");
  });

  it("refuses a short password, an unknown email and --password, changing nothing", { timeout: 120_000 }, async () => {
    const user = await createUser({ email: "ada@example.com", password: PASSWORD });
    await createSession(user.id);
    const short = enclave(["user", "reset-password", "--email", "ada@example.com", "--password-stdin"], "short\n");
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/password: Use at least 12 characters/);
    const unknown = enclave(["user", "reset-password", "--email", "nobody@example.com", "--password-stdin"], "a brand new passphrase\n");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no account with email nobody@example\.com/);
    const flag = enclave(["user", "reset-password", "--email", "ada@example.com", "--password", "a brand new passphrase"]);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/--password would put the password in ps/);
    expect(await verifyPassword((await storedUser("ada@example.com")).passwordHash, PASSWORD)).toBe(true);
    const control = await getControlDb();
    expect(await control.db.$count(sessions, eq(sessions.userId, user.id))).toBe(1);
  });
});
