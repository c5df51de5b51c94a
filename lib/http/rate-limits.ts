import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { getConfig } from "../config";
import { RateLimitedError } from "./errors";

/**
 * Brakes, per client IP (and per account for sign-in). Memory store: one process serves an
 * instance; the counters reset on restart, which is acceptable for a brake (the Argon2 cost
 * per sign-in attempt stays).
 *
 * The REST API counts each endpoint separately per IP, so an agent syncing hard on one
 * endpoint does not lock a person out of another; sync endpoints (data) and admin endpoints
 * (members, tokens) have their own budgets.
 */
export type ApiLimitGroup = "sync" | "admin";

function makeLimiters() {
  const config = getConfig();
  return {
    api: {
      sync: new RateLimiterMemory({ keyPrefix: "api-sync", points: config.ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE, duration: 60 }),
      admin: new RateLimiterMemory({ keyPrefix: "api-admin", points: config.ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE, duration: 60 }),
    } satisfies Record<ApiLimitGroup, RateLimiterMemory>,
    signInPerIp: new RateLimiterMemory({ keyPrefix: "signin-ip", points: 50, duration: 15 * 60 }),
    // Counts failures only; a success clears it.
    signInFailuresPerAccount: new RateLimiterMemory({ keyPrefix: "signin-acct", points: 10, duration: 15 * 60 }),
    signUpPerIp: new RateLimiterMemory({ keyPrefix: "signup-ip", points: 20, duration: 60 * 60 }),
    // Each "forgot password" may send a mail to someone: a few per address (whether or not it has an account, so the brake tells nothing), a few more per IP.
    passwordResetRequestPerIp: new RateLimiterMemory({ keyPrefix: "reset-request-ip", points: 10, duration: 60 * 60 }),
    passwordResetRequestPerEmail: new RateLimiterMemory({ keyPrefix: "reset-request-email", points: 3, duration: 60 * 60 }),
    // Using a mailed link (reset, verification): the tokens cannot be guessed, but a reset costs an Argon2 hash.
    emailTokenUsePerIp: new RateLimiterMemory({ keyPrefix: "email-token-ip", points: 30, duration: 15 * 60 }),
    verificationResendPerUser: new RateLimiterMemory({ keyPrefix: "verify-resend-user", points: 5, duration: 60 * 60 }),
    // Each workspace is a file on disk: a brake on making them, beside the per-person cap.
    workspaceCreatePerUser: new RateLimiterMemory({ keyPrefix: "workspace-user", points: 10, duration: 60 * 60 }),
    workspaceCreatePerIp: new RateLimiterMemory({ keyPrefix: "workspace-ip", points: 30, duration: 60 * 60 }),
    // Some clients register afresh on every connect (and some twice): room for that, not for a flood.
    clientRegistrationPerIp: new RateLimiterMemory({ keyPrefix: "oauth-register-ip", points: 60, duration: 60 * 60 }),
    // An evidence bundle reads up to 400 days of a chain, twice.
    evidenceExportPerUser: new RateLimiterMemory({ keyPrefix: "evidence-user", points: 30, duration: 60 * 60 }),
    // Each use of a metadata-document client id may make us fetch a URL someone else chose.
    clientDocumentPerIp: new RateLimiterMemory({ keyPrefix: "oauth-cimd-ip", points: 30, duration: 60 }),
    // Audit rows for refused access, per principal and chain: a budget, not a brake (the refusal
    // happens either way). A flood of refusals cannot grow a chain faster than this.
    deniedAccessRecords: new RateLimiterMemory({ keyPrefix: "audit-denied", points: 60, duration: 60 }),
    // An export reads everything a person owns: a few a day is what anyone needs, and each one is work.
    accountExportPerUser: new RateLimiterMemory({ keyPrefix: "export-user", points: 3, duration: 60 * 60 }),
    accountExportPerIp: new RateLimiterMemory({ keyPrefix: "export-ip", points: 3, duration: 60 * 60 }),
    // The public request-access form: a person asks once or twice; a flood stops here before anything is stored.
    accessRequestPerIp: new RateLimiterMemory({ keyPrefix: "access-request-ip", points: 5, duration: 60 * 60 }),
    accessRequestPerEmail: new RateLimiterMemory({ keyPrefix: "access-request-email", points: 3, duration: 24 * 60 * 60 }),
    // The operator API: room for a monitor polling status and a person at a shell, not a flood.
    operatorCallsPerIp: new RateLimiterMemory({ keyPrefix: "operator-ip", points: 60, duration: 60 }),
    // Counts refused operator credentials only: a few typos, then a lockout long enough to make guessing pointless.
    operatorAuthFailuresPerIp: new RateLimiterMemory({ keyPrefix: "operator-fail-ip", points: 10, duration: 15 * 60 }),
  };
}

const globalForLimits = globalThis as unknown as { enclaveLimiters?: ReturnType<typeof makeLimiters> };
const limiters = () => (globalForLimits.enclaveLimiters ??= makeLimiters());

/** Tests start each case with fresh counters. */
export function resetRateLimits(): void {
  globalForLimits.enclaveLimiters = makeLimiters();
}

async function consume(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(rejection.msBeforeNext / 1000);
    throw rejection;
  }
}

export async function limitSignInAttempt(ip: string, email: string): Promise<void> {
  await consume(limiters().signInPerIp, ip);
  const failures = await limiters().signInFailuresPerAccount.get(email);
  if (failures && failures.remainingPoints <= 0) throw new RateLimitedError(failures.msBeforeNext / 1000);
}

export async function recordSignInFailure(email: string): Promise<void> {
  await limiters().signInFailuresPerAccount.penalty(email, 1);
}

export async function clearSignInFailures(email: string): Promise<void> {
  await limiters().signInFailuresPerAccount.delete(email);
}

export const limitSignUp = (ip: string) => consume(limiters().signUpPerIp, ip);
export async function limitPasswordResetRequest(ip: string, email: string): Promise<void> {
  await consume(limiters().passwordResetRequestPerIp, ip);
  await consume(limiters().passwordResetRequestPerEmail, email);
}
export const limitEmailTokenUse = (ip: string) => consume(limiters().emailTokenUsePerIp, ip);
export const limitVerificationResend = (userId: string) => consume(limiters().verificationResendPerUser, userId);
export async function limitWorkspaceCreation(ip: string, userId: string): Promise<void> {
  await consume(limiters().workspaceCreatePerIp, ip);
  await consume(limiters().workspaceCreatePerUser, userId);
}
export async function limitAccountExport(ip: string, userId: string): Promise<void> {
  await consume(limiters().accountExportPerIp, ip);
  await consume(limiters().accountExportPerUser, userId);
}
export async function limitAccessRequest(ip: string, email: string): Promise<void> {
  await consume(limiters().accessRequestPerIp, ip);
  await consume(limiters().accessRequestPerEmail, email);
}
export const limitClientRegistration = (ip: string) => consume(limiters().clientRegistrationPerIp, ip);
export const limitClientDocumentFetch = (ip: string) => consume(limiters().clientDocumentPerIp, ip);

export const limitEvidenceExport = (userId: string) => consume(limiters().evidenceExportPerUser, userId);

export const limitApiCall = (group: ApiLimitGroup, endpoint: string, ip: string) => consume(limiters().api[group], `${endpoint}|${ip}`);

/** Whether one more refusal by `key` may become an audit row now (see deniedAccessRecords). */
export async function mayRecordDenial(key: string): Promise<boolean> {
  try {
    await limiters().deniedAccessRecords.consume(key);
    return true;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return false;
    throw rejection;
  }
}

/** Before an operator API call is looked at: its per-IP budget, and a lockout once this IP has failed to authenticate too often. */
export async function limitOperatorCall(ip: string): Promise<void> {
  await consume(limiters().operatorCallsPerIp, ip);
  const failures = await limiters().operatorAuthFailuresPerIp.get(ip);
  if (failures && failures.remainingPoints <= 0) throw new RateLimitedError(failures.msBeforeNext / 1000);
}

export async function recordOperatorAuthFailure(ip: string): Promise<void> {
  await limiters().operatorAuthFailuresPerIp.penalty(ip, 1);
}
