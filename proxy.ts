import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { sessionCookieName } from "@/lib/auth/cookies";
import { contentSecurityPolicy } from "@/lib/http/csp";

// Pages anyone may see; every other page needs a session cookie before it is even rendered.
const PUBLIC_PAGES = new Set(["/sign-in", "/sign-up"]);

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
  const { pathname } = request.nextUrl;
  const isPage = !pathname.startsWith("/api/");
  if (isPage && !PUBLIC_PAGES.has(pathname) && !request.cookies.has(sessionCookieName())) {
    const response = NextResponse.redirect(new URL("/sign-in", config.ENCLAVE_PUBLIC_URL));
    response.headers.set("content-security-policy", csp);
    return response;
  }
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
