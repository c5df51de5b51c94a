import { verifyToken } from "@clerk/backend";
import { z } from "zod";
import { getConfig, type ClerkConfig } from "../config";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";
import { fetchClerkUser, primaryVerifiedEmail, revokeClerkSession } from "./clerk-api";
import { isEndedClerkSession, recordEndedClerkSession } from "./clerk-sessions";
import { CLERK_SESSION_COOKIE } from "./cookies";
import { findUserByClerkId, linkClerkUser } from "./clerk-users";
import type { SignedIn } from "./sessions";

/**
 * Clerk mode's session check, framework-free. The `__session` cookie holds a short-lived RS256
 * JWT Clerk's Frontend API minted; @clerk/backend's verifyToken checks it against CLERK_JWT_KEY
 * with no network call: signature (RS256 only, so `alg: none` and HS256 fail), exp and nbf
 * (Clerk's 5 s skew), `azp` = this instance's public origin (a token another Clerk app minted
 * for its own origin opens nothing here) and `iss` = this instance's Frontend API. An
 * `Authorization: Bearer` Clerk token is not accepted for the portal: a bearer is what a
 * script sends, and scripts use team tokens.
 *
 * Then Enclave's own refusals: a session ended here or by Clerk (clerk_ended_sessions), a
 * session Clerk has not finished (`sts: pending`), and everything sessionFromCookies applies
 * to any session (suspended, closing).
 */
const claimsSchema = z.object({
  sub: z.string().regex(/^user_[A-Za-z0-9]+$/),
  sid: z.string().regex(/^sess_[A-Za-z0-9]+$/),
  iat: z.number().int(),
  /** Minutes since the first and the second factor were verified (v2 tokens); -1 for never. */
  fva: z.tuple([z.number().int(), z.number().int()]).optional(),
  sts: z.string().optional(),
});
export type ClerkClaims = z.infer<typeof claimsSchema>;

const END_SKEW_MS = 24 * 60 * 60_000;

/** The verified claims, or null for a token that does not verify (the reason is logged at debug: a stale tab is routine). */
export async function verifyClerkSessionToken(token: string, clerk: ClerkConfig, publicOrigin: string, options: { toEnd?: boolean } = {}): Promise<ClerkClaims | null> {
  let payload: unknown;
  try {
    // Ending a session is all an expired token may still do (sign-out from a tab idle past the
    // token's minute): signature, azp and iss are checked as ever, the clock is given a day.
    const clockSkewInMs = options.toEnd ? END_SKEW_MS : undefined;
    payload = await verifyToken(token, { jwtKey: clerk.jwtKey, authorizedParties: [publicOrigin], issuer: clerk.frontendApi, clockSkewInMs });
  } catch (error) {
    logger.debug({ reason: String(error) }, "Clerk session token refused");
    return null;
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success || (claims.data.sts !== undefined && claims.data.sts !== "active")) return null;
  return claims.data;
}

/**
 * When the person last proved their first factor to Clerk, from the token's `fva`; undefined
 * when the token does not say. Re-authentication in Clerk mode (lib/auth/reauth.ts) is this:
 * Enclave holds no password to ask for, so "recently signed in with Clerk" is the proof.
 */
export const firstFactorAt = (claims: ClerkClaims): number | undefined =>
  claims.fva && claims.fva[0] >= 0 ? claims.iat * 1000 - claims.fva[0] * 60_000 : undefined;

/** The person a Clerk session cookie signs in, or null; SignUpRefusedError for a Clerk user this instance will not admit. */
export async function clerkSignedIn(readCookie: (name: string) => string | undefined): Promise<SignedIn | null> {
  const config = getConfig();
  const clerk = config.clerk;
  const token = readCookie(CLERK_SESSION_COOKIE);
  if (!clerk || !token) return null;
  const claims = await verifyClerkSessionToken(token, clerk, config.ENCLAVE_PUBLIC_URL.origin);
  if (!claims || (await isEndedClerkSession(claims.sid))) return null;
  const user = (await findUserByClerkId(claims.sub)) ?? (await firstSight(clerk, claims.sub));
  return { user, sessionId: claims.sid, firstFactorAt: firstFactorAt(claims) };
}

/** A Clerk user no row knows yet: their verified email from the Backend API, then the one linking rule. */
async function firstSight(clerk: ClerkConfig, clerkUserId: string) {
  const clerkUser = await fetchClerkUser(clerk, clerkUserId).catch((error: unknown) => {
    logger.warn({ err: error, clerkUserId }, "Clerk Backend API unreachable: cannot learn a new Clerk user's email");
    throw new HttpError(503, "identity_provider_unreachable", "Your account could not be set up just now. Try again in a minute.");
  });
  const email = clerkUser ? primaryVerifiedEmail(clerkUser) : null;
  return linkClerkUser({ clerkUserId, email, verifiedAt: Date.now() }, { via: "session" });
}

/**
 * Sign-out in Clerk mode: the session is recorded as ended first (so it is refused here at
 * once, whatever Clerk answers), then revoked at Clerk's Backend API; a failed call is logged
 * and the browser still leaves signed out (the route clears Clerk's cookies). A cookie that no
 * longer verifies names no session to end. Returns the signed-out user's id, for the audit.
 */
export async function endClerkSession(readCookie: (name: string) => string | undefined): Promise<{ userId: string | null; sessionId: string } | null> {
  const config = getConfig();
  const token = readCookie(CLERK_SESSION_COOKIE);
  if (!config.clerk || !token) return null;
  const claims = await verifyClerkSessionToken(token, config.clerk, config.ENCLAVE_PUBLIC_URL.origin, { toEnd: true });
  if (!claims) return null;
  await recordEndedClerkSession(claims.sid);
  await revokeClerkSession(config.clerk, claims.sid);
  return { userId: (await findUserByClerkId(claims.sub))?.id ?? null, sessionId: claims.sid };
}
