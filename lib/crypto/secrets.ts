import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * Every bearer secret Enclave hands out, in one table: what it looks like, how long it lives,
 * where its hash is kept and who looks it up. Read this file to know all of them.
 *
 * Format, for all: a prefix naming the kind + 43 characters of base64url (256 random bits) +
 * 6 base62 characters of CRC-32 over everything before them. The prefix lets secret scanners
 * (and our own redaction) recognise a leaked one; the checksum lets us refuse a mistyped or
 * made-up one without touching the database. The checksum is not a secret and adds no
 * security.
 *
 * Storage, for all: only SHA-256(secret), hex, in a unique (or primary-key) column, so a check
 * is one indexed equality lookup — never a scan, and never a comparison of secret bytes that
 * could leak timing. A plain hash is enough: the input has 256 bits of entropy, so there is
 * nothing to brute-force (passwords, which people choose, get Argon2id instead). Each secret
 * is shown to its owner exactly once, when minted.
 *
 * | kind              | prefix    | lives                                  | hash kept in                  | looked up by                      |
 * |-------------------|-----------|----------------------------------------|-------------------------------|-----------------------------------|
 * | session           | `enc_ss_` | idle / absolute limits (config), rotated| sessions.token_hash (+ previous for 60 s) | lib/auth/sessions.ts resolveSession |
 * | teamToken         | `enc_`    | 90 days by default, at most 365         | team_tokens.token_hash        | lib/access/bearer.ts              |
 * | accessToken       | `enc_at_` | ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS      | oauth_tokens.token_hash       | lib/access/bearer.ts              |
 * | refreshToken      | `enc_rt_` | 30 days, used once (rotates)            | oauth_tokens.token_hash       | lib/oauth/grants.ts refresh       |
 * | authorizationCode | `enc_ac_` | 60 s, used once                         | oauth_codes.code_hash         | lib/oauth/grants.ts code exchange |
 * | clientSecret      | `enc_cs_` | until the client is deleted             | oauth_clients.secret_hash     | lib/oauth/clients.ts              |
 * | operatorToken     | `enc_op_` | until revoked or replaced (one live)    | operator_tokens.token_hash    | lib/access/operator-token.ts      |
 * | passwordReset     | `enc_pr_` | 30 min, used once, newest only          | email_tokens.token_hash       | lib/auth/email-tokens.ts          |
 * | emailVerification | `enc_ev_` | 24 h, used once, newest only            | email_tokens.token_hash       | lib/auth/email-tokens.ts          |
 * | invitation        | `enc_inv_`| 7 days, used once, revocable            | invitations.token_hash        | lib/access/invitations.ts         |
 *
 * Lifetimes live with the code that enforces them (named in the table); this file owns the
 * format, minting and hashing.
 */
export const SECRET_PREFIXES = {
  session: "enc_ss_",
  teamToken: "enc_",
  accessToken: "enc_at_",
  refreshToken: "enc_rt_",
  authorizationCode: "enc_ac_",
  clientSecret: "enc_cs_",
  operatorToken: "enc_op_",
  passwordReset: "enc_pr_",
  emailVerification: "enc_ev_",
  invitation: "enc_inv_",
} as const;

export type SecretKind = keyof typeof SECRET_PREFIXES;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;
const CHECKSUM = /^[0-9A-Za-z]{6}$/;

function checksum(body: string): string {
  let value = crc32(body);
  let out = "";
  for (let i = 0; i < 6; i += 1) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** A new secret of `kind` and the hash to store for it. */
export function mintSecret(kind: SecretKind): { secret: string; hash: string } {
  const body = `${SECRET_PREFIXES[kind]}${randomBytes(32).toString("base64url")}`;
  const secret = body + checksum(body);
  return { secret, hash: sha256Hex(secret) };
}

/** The stored form of a presented secret. */
export const hashSecret = (secret: string): string => sha256Hex(secret);

/**
 * Shape and checksum only: true does not mean the secret exists. `enc_at_…` is not a
 * well-formed team token (`enc_`): the random part after the prefix must be exactly 43
 * characters, so no kind's secret passes as another's.
 */
export function isWellFormedSecret(kind: SecretKind, secret: string): boolean {
  const prefix = SECRET_PREFIXES[kind];
  if (!secret.startsWith(prefix) || secret.length !== prefix.length + 49 || !CHECKSUM.test(secret.slice(-6))) return false;
  const body = secret.slice(0, -6);
  return RANDOM_PART.test(body.slice(prefix.length)) && checksum(body) === secret.slice(-6);
}

/** For the secrets we must compare rather than look up (a client secret against its row's hash, PKCE). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
