import { eq } from "drizzle-orm";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { auditLog, backupCodes, users } from "@/db/control/schema";
import { useTempStore } from "@/test/store";
import { sha256Hex } from "../crypto/secrets";
import { getControlDb } from "../db/store";
import { confirmTotpSetup, disableTotp, MfaStateError, normalizeCode, startTotpSetup, verifySecondFactor } from "./mfa";
import { createUser } from "./users";

useTempStore();

const STEP_MS = 30_000;
const codeAt = (secret: string, at: number) => generate({ secret, epoch: Math.floor(at / 1000) });

async function userWithMfa() {
  const user = await createUser({ email: `m${Math.random()}@example.com`, password: "long enough password" });
  const { secret } = await startTotpSetup(user.id, user.email);
  // Enable at a step boundary so "the next step" below is unambiguous.
  const enabledAt = Math.floor(Date.now() / STEP_MS) * STEP_MS + 1_000;
  const result = await confirmTotpSetup(user.id, await codeAt(secret, enabledAt), enabledAt);
  if (!result) throw new Error("set-up did not confirm");
  return { user, secret, enabledAt, backupCodes: result.backupCodes };
}

async function storedUser(id: string) {
  const control = await getControlDb();
  return control.db.query.users.findFirst({ where: eq(users.id, id) });
}

describe("setting up TOTP", () => {
  it("does not turn on with a wrong code", async () => {
    const user = await createUser({ email: "a@example.com", password: "long enough password" });
    const setup = await startTotpSetup(user.id, user.email);
    expect(setup.otpauthUri).toMatch(/^otpauth:\/\/totp\/Enclave:a%40example\.com\?.*secret=/);
    expect(setup.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(await confirmTotpSetup(user.id, "000000")).toBeNull();
    expect(await confirmTotpSetup(user.id, "not a code")).toBeNull();
    expect((await storedUser(user.id))?.totpSecret).toBeNull();
  });

  it("cannot confirm without a set-up, nor start one while on", async () => {
    const user = await createUser({ email: "b@example.com", password: "long enough password" });
    await expect(confirmTotpSetup(user.id, "123456")).rejects.toBeInstanceOf(MfaStateError);
    const { user: enabled } = await userWithMfa();
    await expect(startTotpSetup(enabled.id, enabled.email)).rejects.toBeInstanceOf(MfaStateError);
  });

  it("stores backup codes only as hashes and returns ten distinct ones once", async () => {
    const { user, backupCodes: codes } = await userWithMfa();
    expect(new Set(codes).size).toBe(10);
    const control = await getControlDb();
    const rows = await control.db.select().from(backupCodes).where(eq(backupCodes.userId, user.id));
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(rows.some((row) => row.codeHash === sha256Hex(normalizeCode(code)))).toBe(true);
    }
  });
});

describe("checking a second factor", () => {
  it("accepts the next step's code once and refuses it replayed", async () => {
    const { user, secret, enabledAt } = await userWithMfa();
    const next = enabledAt + STEP_MS;
    const code = await codeAt(secret, next);
    expect(await verifySecondFactor(user.id, code, next)).toBe("totp");
    expect(await verifySecondFactor(user.id, code, next)).toBeNull();
  });

  it("refuses the code that turned MFA on (already used)", async () => {
    const { user, secret, enabledAt } = await userWithMfa();
    expect(await verifySecondFactor(user.id, await codeAt(secret, enabledAt), enabledAt)).toBeNull();
  });

  it("allows one step of clock drift but not two", async () => {
    const { user, secret, enabledAt } = await userWithMfa();
    const now = enabledAt + 4 * STEP_MS;
    expect(await verifySecondFactor(user.id, await codeAt(secret, now - 2 * STEP_MS), now)).toBeNull();
    expect(await verifySecondFactor(user.id, await codeAt(secret, now - STEP_MS), now)).toBe("totp");
  });

  it("lets two concurrent uses of one TOTP code through exactly once", async () => {
    const { user, secret, enabledAt } = await userWithMfa();
    const next = enabledAt + STEP_MS;
    const code = await codeAt(secret, next);
    const results = await Promise.all([1, 2, 3].map(() => verifySecondFactor(user.id, code, next)));
    expect(results.filter((result) => result === "totp")).toHaveLength(1);
  });

  it("accepts a backup code once, however it is typed, and never twice at once", async () => {
    const { user, backupCodes: codes } = await userWithMfa();
    const [first, second] = codes as [string, string];
    expect(await verifySecondFactor(user.id, ` ${first.toUpperCase()} `)).toBe("backup_code");
    expect(await verifySecondFactor(user.id, first)).toBeNull();
    const racing = await Promise.all([1, 2, 3].map(() => verifySecondFactor(user.id, second)));
    expect(racing.filter((result) => result === "backup_code")).toHaveLength(1);
  });

  it("refuses another user's backup code", async () => {
    const alice = await userWithMfa();
    const bob = await userWithMfa();
    expect(await verifySecondFactor(bob.user.id, alice.backupCodes[0]!)).toBeNull();
    expect(await verifySecondFactor(alice.user.id, alice.backupCodes[0]!)).toBe("backup_code");
  });

  it("returns null for a user without MFA", async () => {
    const user = await createUser({ email: "c@example.com", password: "long enough password" });
    expect(await verifySecondFactor(user.id, "123456")).toBeNull();
  });
});

describe("turning TOTP off", () => {
  it("changes nothing on a wrong code and clears everything on a right one", async () => {
    const { user, backupCodes: codes } = await userWithMfa();
    expect(await disableTotp(user.id, "000000")).toBe(false);
    expect((await storedUser(user.id))?.totpSecret).not.toBeNull();
    expect(await disableTotp(user.id, codes[0]!)).toBe(true);
    const after = await storedUser(user.id);
    expect([after?.totpSecret, after?.totpPendingSecret, after?.totpLastStep]).toEqual([null, null, null]);
    const control = await getControlDb();
    expect(await control.db.$count(backupCodes, eq(backupCodes.userId, user.id))).toBe(0);
    expect(await verifySecondFactor(user.id, codes[1]!)).toBeNull();
  });
});

describe("the audit trail", () => {
  it("records each MFA change and never a secret or a code", async () => {
    const { user, secret, backupCodes: codes } = await userWithMfa();
    await verifySecondFactor(user.id, codes[0]!);
    await disableTotp(user.id, codes[1]!);
    const control = await getControlDb();
    const rows = await control.db.select().from(auditLog).where(eq(auditLog.target, user.id));
    expect(rows.map((row) => row.action)).toEqual([
      "user.sign_up",
      "mfa.setup_started",
      "mfa.enabled",
      "mfa.backup_code_used",
      "mfa.backup_code_used",
      "mfa.disabled",
    ]);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(secret);
    for (const code of codes) expect(text).not.toContain(code);
  });
});
