import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import { Webhook } from "svix";

/**
 * Clerk, faked only where Enclave meets it: a throwaway RSA key pair whose public half is
 * CLERK_JWT_KEY (session tokens minted here with jose, claims as Clerk's), a svix signing
 * secret (webhooks signed with svix's own signer), and a local node:http server standing in
 * for the Backend API at CLERK_API_URL. The Frontend API (Clerk's UI) is not reachable here.
 */
export const FRONTEND_API_HOST = "clerk.enclave.test";
export const FRONTEND_API = `https://${FRONTEND_API_HOST}`;
export const PUBLIC_ORIGIN = "http://localhost:3000";

export type ClerkKeys = { privateKey: KeyObject; publicPem: string; secretKey: string; webhookSecret: string };

export function clerkKeys(): ClerkKeys {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey,
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    secretKey: `sk_test_${randomBytes(18).toString("hex")}`,
    webhookSecret: `whsec_${randomBytes(24).toString("base64")}`,
  };
}

export function clerkEnv(keys: ClerkKeys, apiUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ENCLAVE_AUTH_PROVIDER: "clerk",
    CLERK_PUBLISHABLE_KEY: `pk_test_${Buffer.from(`${FRONTEND_API_HOST}$`).toString("base64")}`,
    CLERK_SECRET_KEY: keys.secretKey,
    CLERK_JWT_KEY: keys.publicPem,
    CLERK_WEBHOOK_SIGNING_SECRET: keys.webhookSecret,
    CLERK_API_URL: apiUrl,
    ...extra,
  };
}

export type TokenClaims = { sub: string; sid: string; azp?: string; iss?: string; iat?: number; nbf?: number; exp?: number; fva?: [number, number]; sts?: string };

/** A session token as Clerk's Frontend API mints it (RS256, kid, ~60 s life), with any claim overridden. */
export async function mintSessionToken(key: KeyObject, claims: TokenClaims, alg = "RS256"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { sub, iss, iat, nbf, exp, ...rest } = claims;
  return new SignJWT({ azp: PUBLIC_ORIGIN, v: 2, fva: [0, -1], ...rest })
    .setProtectedHeader({ alg, kid: "ins_test", typ: "JWT" })
    .setSubject(sub)
    .setIssuer(iss ?? FRONTEND_API)
    .setIssuedAt(iat ?? now)
    .setNotBefore(nbf ?? now - 10)
    .setExpirationTime(exp ?? now + 60)
    .sign(key);
}

/** An unsigned token (`alg: none`): what a forger sends when they hope the check reads the header. */
export function unsignedToken(claims: TokenClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT", kid: "ins_test" })}.${part({ azp: PUBLIC_ORIGIN, iss: FRONTEND_API, iat: now, nbf: now - 10, exp: now + 60, ...claims })}.`;
}

export const sessionCookie = (token: string) => `__session=${token}`;

/** A Clerk user object as the Backend API and webhooks carry it. */
export function clerkUser(id: string, email: string, options: { verified?: boolean; updatedAt?: number } = {}) {
  return {
    object: "user",
    id,
    primary_email_address_id: `idn_${id.slice(5)}`,
    email_addresses: [{ id: `idn_${id.slice(5)}`, email_address: email, verification: { status: options.verified === false ? "unverified" : "verified" } }],
    updated_at: options.updatedAt ?? Date.now(),
  };
}

export type FakeClerkApi = {
  url: string;
  users: Map<string, ReturnType<typeof clerkUser>>;
  revoked: string[];
  /** Status the revoke call answers (200 by default). */
  revokeStatus: { value: number };
  requests: { method: string; path: string; authorized: boolean }[];
  close: () => Promise<void>;
};

/** Clerk's Backend API, the two calls Enclave makes, on a loopback port; a wrong secret key is a 401 as at Clerk. */
export async function startFakeClerkApi(secretKey: () => string): Promise<FakeClerkApi> {
  const users = new Map<string, ReturnType<typeof clerkUser>>();
  const revoked: string[] = [];
  const revokeStatus = { value: 200 };
  const requests: FakeClerkApi["requests"] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    const authorized = req.headers.authorization === `Bearer ${secretKey()}`;
    requests.push({ method: req.method ?? "", path, authorized });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (!authorized) return send(401, { errors: [{ code: "authentication_invalid" }] });
    const user = /^\/v1\/users\/([^/]+)$/.exec(path);
    if (req.method === "GET" && user?.[1]) {
      const found = users.get(decodeURIComponent(user[1]));
      return found ? send(200, found) : send(404, { errors: [{ code: "resource_not_found" }] });
    }
    const revoke = /^\/v1\/sessions\/([^/]+)\/revoke$/.exec(path);
    if (req.method === "POST" && revoke?.[1]) {
      revoked.push(decodeURIComponent(revoke[1]));
      return send(revokeStatus.value, { object: "session", id: revoke[1], status: "revoked" });
    }
    send(404, { errors: [{ code: "resource_not_found" }] });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    revoked,
    revokeStatus,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The three svix headers for `payload`, signed with `secret` at `at` (svix's own signer). */
export function signedHeaders(secret: string, id: string, payload: string, at = new Date()): Record<string, string> {
  return {
    "svix-id": id,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(id, at, payload),
    "content-type": "application/json",
  };
}
