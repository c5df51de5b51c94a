import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

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

/**
 * Bearer secrets handed to programs (team tokens, OAuth tokens, client secrets): a prefix +
 * 43 characters of base64url (256 random bits) + 6 base62 characters of CRC-32 over
 * everything before them. The prefix lets secret scanners (and our own redaction) recognise a
 * leaked one; the checksum lets us refuse a mistyped or made-up one without a database
 * lookup. The checksum is not a secret and adds no security.
 */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;

function checksum(body: string): string {
  let value = crc32(body);
  let out = "";
  for (let i = 0; i < 6; i += 1) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export function mintPrefixedSecret(prefix: string): string {
  const body = `${prefix}${randomToken(32)}`;
  return body + checksum(body);
}

/** Shape and checksum only: true does not mean the secret exists. */
export function isWellFormedSecret(secret: string, prefix: string): boolean {
  if (!secret.startsWith(prefix) || secret.length !== prefix.length + 49 || !/^[0-9A-Za-z]{6}$/.test(secret.slice(-6))) return false;
  const body = secret.slice(0, -6);
  return RANDOM_PART.test(body.slice(prefix.length)) && checksum(body) === secret.slice(-6);
}
