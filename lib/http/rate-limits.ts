import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "../http/errors";

/**
 * Brute-force brakes on sign-in and sign-up, per client IP and per account. Memory store:
 * one process serves an instance; the counters reset on restart, which is acceptable for
 * a brake (the Argon2 cost per attempt stays).
 */
function makeLimiters() {
  return {
    signInPerIp: new RateLimiterMemory({ keyPrefix: "signin-ip", points: 50, duration: 15 * 60 }),
    // Counts failures only; a success clears it.
    signInFailuresPerAccount: new RateLimiterMemory({ keyPrefix: "signin-acct", points: 10, duration: 15 * 60 }),
    signUpPerIp: new RateLimiterMemory({ keyPrefix: "signup-ip", points: 20, duration: 60 * 60 }),
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
