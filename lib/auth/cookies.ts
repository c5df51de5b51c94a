import { parse, serialize } from "cookie";
import { getConfig } from "../config";
import { SESSION_COOKIE } from "../http/cookie-table";

/**
 * The session cookie is `__Host-enclave_session` (Secure, Path=/, no Domain) whenever the
 * public URL is https. On a plain-http loopback origin (the embedded default,
 * http://localhost:3000) the `__Host-` prefix requires Secure, which not every browser accepts
 * over http, so the cookie is `enclave_session` without Secure. config.ts refuses plain http
 * on any host but loopback, so this never applies to a reachable server.
 */
export function sessionCookieName(): string {
  return getConfig().secureCookies ? SESSION_COOKIE.https : SESSION_COOKIE.http;
}

export function readSessionToken(cookieHeader: string | null | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  return parse(cookieHeader)[sessionCookieName()];
}

export function sessionCookie(token: string, expiresAt: number): string {
  return serialize(sessionCookieName(), token, {
    httpOnly: true,
    secure: getConfig().secureCookies,
    sameSite: "lax",
    path: "/",
    expires: new Date(expiresAt),
  });
}

export function clearedSessionCookie(): string {
  return serialize(sessionCookieName(), "", {
    httpOnly: true,
    secure: getConfig().secureCookies,
    sameSite: "lax",
    path: "/",
    maxAge: 0,
  });
}
