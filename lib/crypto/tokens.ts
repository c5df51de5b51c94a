import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Secrets handed to people or clients (session ids, backup codes) are 256-bit random values,
 * stored only as their SHA-256. A plain hash is enough: the input is high-entropy, so there is
 * nothing to brute-force, and a hash lookup stays an indexed equality match.
 */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Ids are random, lowercase and URL-safe, so they can name folders without escaping. */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}

export const WORKSPACE_ID_PATTERN = /^ws_[0-9a-f]{32}$/;
