import { eq } from "drizzle-orm";
import { z } from "zod";
import { sessions } from "@/db/control/schema";
import { auditControl } from "../audit/audit";
import { getConfig } from "../config";
import { getControlDb } from "../db/store";
import { HttpError } from "../http/errors";
import { clearSignInFailures, limitSignInAttempt, recordSignInFailure } from "../http/rate-limits";
import { text } from "../http/text";
import { isMfaEnabled, verifySecondFactor } from "./mfa";
import { verifyPassword } from "./password";
import type { SignedIn } from "./sessions";

/**
 * Proof that the person at the keyboard is the account's owner, not someone at an unlocked
 * screen: the password again, and the second factor when MFA is on. Export and closure ask
 * for it. It counts for this session only, for REAUTH_WINDOW_MS, and shares sign-in's brakes
 * (per IP and per account), so it is no side door for guessing a password.
 */
export const REAUTH_WINDOW_MS = 10 * 60_000;

/*
 * Clerk mode holds no password or TOTP secret to ask for again. There, re-authentication is
 * Clerk's own word that the person verified their first factor within the window: the
 * session token's `fva` claim (SignedIn.firstFactorAt, lib/auth/clerk.ts). Older than that, or
 * a token without `fva`, and they are asked to sign out and sign in again; the password
 * endpoint (reauthenticate) is local-only and answers 404.
 */
const clerkMode = () => getConfig().ENCLAVE_AUTH_PROVIDER === "clerk";
const clerkReauthFresh = (signedIn: SignedIn, now: number) => signedIn.firstFactorAt !== undefined && now - signedIn.firstFactorAt < REAUTH_WINDOW_MS;

// The password is optional in the schema only because Clerk mode confirms by a recent sign-in
// instead (no password is Enclave's there); local mode refuses a missing one in confirmReauth.
export const reauthSchema = z.object({
  password: text(1024).min(1, "Enter your password.").optional(),
  code: text(64).trim().optional(),
});
export type ReauthInput = z.infer<typeof reauthSchema>;

/** Checks the password (and code) for the signed-in person and, when right, stamps the session. */
export async function confirmReauth(signedIn: SignedIn, input: ReauthInput, ip: string, now = Date.now()): Promise<void> {
  if (clerkMode()) return requireRecentReauth(signedIn, now);
  const { user } = signedIn;
  if (input.password === undefined) throw new HttpError(400, "invalid_request", "Enter your password.", {}, { password: ["Enter your password."] });
  await limitSignInAttempt(ip, user.email);
  const fail = async (reason: string, error: HttpError): Promise<never> => {
    await recordSignInFailure(user.email);
    await auditControl({ actor: { type: "user", id: user.id }, action: "account.reauth_failed", target: user.id, details: { reason } });
    throw error;
  };
  if (!(await verifyPassword(user.passwordHash, input.password))) {
    return fail("wrong_password", new HttpError(401, "invalid_credentials", "That password is not correct."));
  }
  if (isMfaEnabled(user)) {
    if (!input.code) throw new HttpError(401, "mfa_required", "Enter the code from your authenticator app, or a backup code.");
    if (!(await verifySecondFactor(user.id, input.code, now))) {
      return fail("wrong_mfa_code", new HttpError(401, "invalid_mfa_code", "That code is not valid."));
    }
  }
  await clearSignInFailures(user.email);
  const control = await getControlDb();
  await control.db.update(sessions).set({ reauthAt: now }).where(eq(sessions.id, signedIn.sessionId));
  await auditControl({ actor: { type: "user", id: user.id }, action: "account.reauth", target: user.id });
}

/** Whether this session re-authenticated within the window. */
export async function hasRecentReauth(signedIn: SignedIn, now = Date.now()): Promise<boolean> {
  if (clerkMode()) return clerkReauthFresh(signedIn, now);
  const control = await getControlDb();
  const [row] = await control.db.select({ reauthAt: sessions.reauthAt }).from(sessions).where(eq(sessions.id, signedIn.sessionId)).limit(1);
  return row?.reauthAt != null && now - row.reauthAt < REAUTH_WINDOW_MS;
}

export async function requireRecentReauth(signedIn: SignedIn, now = Date.now()): Promise<void> {
  if (!(await hasRecentReauth(signedIn, now))) {
    if (clerkMode()) throw new HttpError(401, "reauth_required", "Sign out and sign in again (within the last 10 minutes) to continue.");
    throw new HttpError(401, "reauth_required", "Enter your password again (and your code, when MFA is on) to continue.");
  }
}
