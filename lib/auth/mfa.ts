import { randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { generateSecret, generateURI, verify } from "otplib";
import QRCode from "qrcode";
import { backupCodes, users } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { sha256Hex } from "../crypto/secrets";
import { getControlDb, type ControlTx } from "../db/store";
import { HttpError } from "../http/errors";

/**
 * Optional second factor: TOTP (RFC 6238 as authenticator apps do it: SHA-1, 6 digits, 30 s)
 * plus ten one-time backup codes.
 *
 * - The TOTP secret is 160 random bits, base32, kept in users.totp_secret. It must be
 *   readable to check codes, so it is not hashed; control.db is SQLCipher-encrypted.
 * - Set-up writes a pending secret; only a correct code from it turns MFA on, so a person
 *   cannot lock themselves out with a secret their app never saw.
 * - A TOTP code is accepted once: the accepted time step is stored, and a step at or before
 *   it is refused, inside the same transaction (two requests with one code: one wins).
 * - Backup codes are 60 random bits (`xxxx-xxxx-xxxx`, base32), stored only as SHA-256 of the
 *   normalised code; each is marked used in the transaction that accepts it.
 */
const ISSUER = "Enclave";
const BACKUP_CODE_COUNT = 10;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

export class MfaStateError extends HttpError {
  constructor(message: string) {
    super(409, "mfa_state", message);
  }
}

export const isMfaEnabled = (user: { totpSecret: string | null }) => user.totpSecret !== null;

/** Lowercase, without spaces or dashes: how people type codes is not part of the code. */
export const normalizeCode = (code: string) => code.trim().toLowerCase().replace(/[\s-]/g, "");

function newBackupCode(): string {
  const bytes = randomBytes(12);
  const chars = Array.from(bytes, (byte) => BASE32[byte % 32]).join(""); // 12 × 5 bits = 60 bits
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/** The time step a 6-digit code matches (±1 step of drift, after `afterStep`), or null. */
async function matchTotp(secret: string, code: string, afterStep: number | null, now: number): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(now / 1000),
      epochTolerance: 30,
      ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
    });
    // The union also covers HOTP results, which have no time step.
    return result.valid && "timeStep" in result ? result.timeStep : null;
  } catch {
    return null; // malformed secret or a stored step in the future: not a valid code
  }
}

export async function startTotpSetup(userId: string, email: string): Promise<{ secret: string; otpauthUri: string; qrDataUrl: string }> {
  const control = await getControlDb();
  const secret = generateSecret({ length: 20 });
  const otpauthUri = generateURI({ issuer: ISSUER, label: email, secret });
  await control.transaction(async (tx) => {
    const user = await tx.query.users.findFirst({ where: eq(users.id, userId) });
    if (!user) throw new MfaStateError("No such account.");
    if (isMfaEnabled(user)) throw new MfaStateError("Two-factor authentication is already on.");
    await tx.update(users).set({ totpPendingSecret: secret }).where(eq(users.id, userId));
    await auditControlTx(tx, { actor: { type: "user", id: userId }, action: "mfa.setup_started", target: userId });
  });
  return { secret, otpauthUri, qrDataUrl: await QRCode.toDataURL(otpauthUri) };
}

/** Turns MFA on when `code` matches the pending secret; returns the backup codes, shown once. */
export async function confirmTotpSetup(userId: string, code: string, now = Date.now()): Promise<{ backupCodes: string[] } | null> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    const user = await tx.query.users.findFirst({ where: eq(users.id, userId) });
    if (!user?.totpPendingSecret) throw new MfaStateError("Start two-factor set-up first.");
    const step = await matchTotp(user.totpPendingSecret, normalizeCode(code), null, now);
    if (step === null) return null;
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    await tx
      .update(users)
      .set({ totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpLastStep: step })
      .where(eq(users.id, userId));
    await tx.delete(backupCodes).where(eq(backupCodes.userId, userId));
    await tx.insert(backupCodes).values(codes.map((plain) => ({ userId, codeHash: sha256Hex(normalizeCode(plain)) })));
    await auditControlTx(tx, {
      actor: { type: "user", id: userId },
      action: "mfa.enabled",
      target: userId,
      details: { backupCodes: BACKUP_CODE_COUNT },
    });
    return { backupCodes: codes };
  });
}

/** Checks and consumes a TOTP or backup code inside `tx`. */
async function consumeSecondFactor(tx: ControlTx, userId: string, rawCode: string, now: number): Promise<"totp" | "backup_code" | null> {
  const user = await tx.query.users.findFirst({ where: eq(users.id, userId) });
  if (!user?.totpSecret) return null;
  const code = normalizeCode(rawCode);
  const step = await matchTotp(user.totpSecret, code, user.totpLastStep, now);
  if (step !== null) {
    await tx.update(users).set({ totpLastStep: step }).where(eq(users.id, userId));
    return "totp";
  }
  if (!/^[a-z2-7]{12}$/.test(code)) return null;
  const used = await tx
    .update(backupCodes)
    .set({ usedAt: now })
    .where(and(eq(backupCodes.userId, userId), eq(backupCodes.codeHash, sha256Hex(code)), isNull(backupCodes.usedAt)))
    .returning({ id: backupCodes.id });
  if (used.length === 0) return null;
  const remaining = await tx.$count(backupCodes, and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)));
  await auditControlTx(tx, { actor: { type: "user", id: userId }, action: "mfa.backup_code_used", target: userId, details: { remaining } });
  return "backup_code";
}

export async function verifySecondFactor(userId: string, code: string, now = Date.now()): Promise<"totp" | "backup_code" | null> {
  const control = await getControlDb();
  return control.transaction((tx) => consumeSecondFactor(tx, userId, code, now));
}

/** Turns MFA off; needs a valid second factor, so a stolen session alone cannot do it. */
export async function disableTotp(userId: string, code: string, now = Date.now()): Promise<boolean> {
  const control = await getControlDb();
  return control.transaction(async (tx) => {
    if (!(await consumeSecondFactor(tx, userId, code, now))) return false;
    await tx.update(users).set({ totpSecret: null, totpPendingSecret: null, totpLastStep: null }).where(eq(users.id, userId));
    await tx.delete(backupCodes).where(eq(backupCodes.userId, userId));
    await auditControlTx(tx, { actor: { type: "user", id: userId }, action: "mfa.disabled", target: userId });
    return true;
  });
}
