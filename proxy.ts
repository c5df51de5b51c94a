import { clerkMiddleware } from "@clerk/nextjs/server";
import { NextResponse, type NextFetchEvent, type NextMiddleware, type NextRequest } from "next/server";
import { getConfig, type Config } from "@/lib/config";
import { CLERK_SESSION_COOKIE, sessionCookieName } from "@/lib/auth/cookies";
import { contentSecurityPolicy } from "@/lib/http/csp";

// The one page that shows Cloudflare Turnstile (after consent), and so the one whose CSP names it.
const TURNSTILE_PAGE = "/request-access";
// The one page that opens Razorpay Checkout, and so the one whose CSP names it (billing on only).
const BILLING_PAGE = /^\/w\/ws_[0-9a-f]{32}\/billing$/;
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
// Endpoints, not pages (the portal's JSON endpoints, the consent form's answer): they answer for
// themselves, never with a redirect. The machine endpoints never reach Next (lib/router).
const ENDPOINT_PATHS = /^\/(?:api\/|oauth\/authorize\/decision(?:\/|$))/;

/**
 * The cheap, stateless front door: a fresh CSP nonce per request, and a redirect to sign-in
 * for portal pages without a session cookie. It decides no access: every page and handler
 * checks the session against the database itself.
 *
 * In Clerk mode the same door runs inside clerkMiddleware, which keeps Clerk's short-lived
 * session cookie fresh (its handshake) and verifies it with CLERK_JWT_KEY and the public
 * origin as the one authorized party; "a session cookie" then means Clerk's `__session`.
 * Enclave still decides access from the database (lib/auth/clerk.ts), never from Clerk's
 * auth() here. Local mode never calls Clerk: no middleware is built and no request goes there.
 */
export function proxy(request: NextRequest, event: NextFetchEvent) {
  const config = getConfig();
  if (!config.clerk) return frontDoor(request, config);
  const { clerk } = config;
  // Built once per config (tests swap configs; a server has one).
  if (clerkProxy?.config !== config) {
    const middleware = clerkMiddleware((_auth, clerkRequest) => frontDoor(clerkRequest, config), {
      // The secret key is not passed: as an option Clerk would need CLERK_ENCRYPTION_KEY to hand it to
      // server components, so @clerk/nextjs reads CLERK_SECRET_KEY from the environment, the same
      // variable config.ts checked at start.
      publishableKey: clerk.publishableKey,
      jwtKey: clerk.jwtKey,
      authorizedParties: [config.ENCLAVE_PUBLIC_URL.origin],
      signInUrl: "/sign-in",
      signUpUrl: "/sign-up",
    });
    clerkProxy = { config, middleware };
  }
  return clerkProxy.middleware(request, event);
}

let clerkProxy: { config: Config; middleware: NextMiddleware } | undefined;

function frontDoor(request: NextRequest, config: Config) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const { pathname, search } = request.nextUrl;
  const csp = contentSecurityPolicy(nonce, {
    dev: process.env.NODE_ENV === "development",
    https: config.secureCookies,
    clerk: config.clerk,
    turnstile: config.TURNSTILE_SITE_KEY !== undefined && pathname === TURNSTILE_PAGE,
    billing: config.billing && BILLING_PAGE.test(pathname) ? { checkoutOrigin: config.billing.checkoutOrigin } : null,
  });
  const isPage = !ENDPOINT_PATHS.test(pathname);
  const cookieName = config.clerk ? CLERK_SESSION_COOKIE : sessionCookieName();
  if (isPage && !PUBLIC_PAGES.has(pathname) && !request.cookies.has(cookieName)) {
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
  // Static assets need no nonce; the machine endpoints are answered before Next (server.ts).
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
