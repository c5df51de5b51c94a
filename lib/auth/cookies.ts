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

/** The cookie Clerk keeps the session token in (`__session`; a `_<suffix>` copy per instance on a shared domain). */
export const CLERK_SESSION_COOKIE = "__session";
/** The Clerk cookies sign-out clears on this site: named in the one cookie table (lib/http/cookie-table.ts). */
export const CLERK_CLEARED_COOKIES = ["__session", "__client_uat", "__clerk_db_jwt", "__refresh"] as const;
const CLERK_COOKIE = new RegExp(`^(${CLERK_CLEARED_COOKIES.join("|")})(_[A-Za-z0-9_-]+)?$`);

/**
 * Clears every Clerk cookie the request carried (and the two Clerk always sets), so this
 * browser is signed out here even before Clerk's own script notices.
 */
export function appendClearedClerkCookies(headers: Headers, cookieHeader: string | null): void {
  const names = new Set([CLERK_SESSION_COOKIE, "__client_uat", ...Object.keys(parse(cookieHeader ?? "")).filter((name) => CLERK_COOKIE.test(name))]);
  for (const name of names) headers.append("set-cookie", clearedClerkCookie(name));
}

function clearedClerkCookie(name: string): string {
  return serialize(name, name.startsWith("__client_uat") ? "0" : "", { path: "/", sameSite: "lax", secure: getConfig().secureCookies, maxAge: 0 });
}
