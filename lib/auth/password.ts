import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { text } from "../http/text";

// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
// Exported for /security (lib/trust/security-facts.ts), which states these figures rather than restating them.
export const ARGON2_OPTIONS = { algorithm: 2 as Algorithm /* Argon2id */, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN_LENGTH = 12;
// A cap keeps one request from making Argon2 hash megabytes.
export const passwordSchema = text(1024).min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`);

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against `passwordHash`, or — when there is no such account, or it is a closed
 * account's tombstone, whose hash is "" — against a throwaway hash, so neither costs less
 * Argon2 work than a wrong password, and "" never verifies.
 */
export async function verifyPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  if (passwordHash === undefined || passwordHash === "") {
    dummyHash ??= hashPassword("enclave-timing-equaliser");
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
