import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { sessionCookieName } from "@/lib/auth/cookies";
import { contentSecurityPolicy } from "@/lib/http/csp";

// Pages anyone may see; every other page needs a session cookie before it is even rendered.
// Links sent by mail or handed on (/invite, /reset-password, /verify-email) carry their secret
// in the query, which no log line records (server.ts logs the path only).
const PUBLIC_PAGES = new Set([
  "/sign-in",
  "/sign-up",
  "/request-access",
  "/forgot-password",
  "/reset-password",
  "/verify-email",
  "/invite",
  "/security",
  "/cookies",
  "/privacy",
]);
// An AI client may open the consent page in a popup and wait for its callback with
// `window.opener`: these pages (and sign-in on the way to one) keep the opener, every other
// page takes the default Cross-Origin-Opener-Policy: same-origin (lib/http/security-headers.ts).
const isConsentFlow = (pathname: string, returnTo: string | null) =>
  pathname === "/oauth/authorize" || (pathname === "/sign-in" && (returnTo ?? "").startsWith("/oauth/authorize"));
// Endpoints for machines (bearer tokens, OAuth clients): they answer for themselves, never with a redirect.
const MACHINE_PATHS = /^\/(?:api\/|mcp(?:\/|$)|\.well-known\/|oauth\/(?:register|token|revoke|authorize\/decision)(?:\/|$))/;

/**
 * The cheap, stateless front door: a fresh CSP nonce per request, and a redirect to sign-in
 * for portal pages without a session cookie. It decides no access: every page and handler
 * checks the session against the database itself.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const config = getConfig();
  const csp = contentSecurityPolicy(nonce, {
    dev: process.env.NODE_ENV === "development",
    https: config.secureCookies,
  });
  const { pathname, search } = request.nextUrl;
  const isPage = !MACHINE_PATHS.test(pathname);
  if (isPage && !PUBLIC_PAGES.has(pathname) && !request.cookies.has(sessionCookieName())) {
    const signIn = new URL("/sign-in", config.ENCLAVE_PUBLIC_URL);
    // Back to the consent page after signing in, so an AI client's connection carries on.
    if (pathname === "/oauth/authorize") signIn.searchParams.set("returnTo", `${pathname}${search}`);
    const response = NextResponse.redirect(signIn);
    response.headers.set("content-security-policy", csp);
    if (isConsentFlow(pathname, null)) response.headers.set("cross-origin-opener-policy", "unsafe-none");
    return response;
  }
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", csp);
  if (isConsentFlow(pathname, request.nextUrl.searchParams.get("returnTo"))) response.headers.set("cross-origin-opener-policy", "unsafe-none");
  return response;
}

export const config = {
  // Machine endpoints (MCP, OAuth metadata and token calls) render no page: no nonce to make.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|mcp$|\\.well-known/|oauth/token|oauth/register|oauth/revoke).*)"],
};
