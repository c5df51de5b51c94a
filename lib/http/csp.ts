/**
 * The Content-Security-Policy for one response. Scripts run only with this response's nonce
 * (and what they load, via 'strict-dynamic'); styles only from our own files or with the
 * nonce; no plugins, no framing, forms post only to us. Development adds 'unsafe-eval',
 * which React's dev build needs; production never has it.
 *
 * Clerk mode adds exactly the origins Clerk's CSP guide and @clerk/nextjs's own defaults name,
 * and nothing in local mode: the instance's Frontend API (decoded from the publishable key)
 * for its script, API calls, images and frames; img.clerk.com for avatars; Cloudflare
 * Turnstile (challenges.cloudflare.com), which Clerk's bot protection loads; Clerk's fraud
 * protection hosts (*.protect.clerk.com, on any port for connections as Clerk documents); and
 * workers from blob:, which clerk-js starts. Under 'strict-dynamic' the script hosts only serve
 * browsers without CSP 3: clerk-js still runs because its tag carries our nonce (ClerkProvider's
 * `nonce`, app/layout.tsx). Clerk's telemetry is switched off there, so its host is not listed.
 *
 * `turnstile` (local mode, TURNSTILE_SITE_KEY set, and only on the page that shows the widget,
 * the request-access form) adds challenges.cloudflare.com for its script and its frame, as
 * Cloudflare documents; the page loads it only after consent (lib/http/consent.ts).
 */
export type CspOptions = { dev: boolean; https: boolean; clerk?: { frontendApi: string } | null; turnstile?: boolean };

const TURNSTILE = "https://challenges.cloudflare.com";
const CLERK_IMAGES = "https://img.clerk.com";
const CLERK_PROTECT = "https://*.protect.clerk.com";

export function contentSecurityPolicy(nonce: string, options: CspOptions): string {
  const clerk = options.clerk ? options.clerk.frontendApi : null;
  // Clerk's Frontend API and `sources`, appended to a directive in Clerk mode only.
  const add = (...sources: string[]) => (clerk ? ` ${[clerk, ...sources].join(" ")}` : "");
  const turnstileOnly = !clerk && options.turnstile ? ` ${TURNSTILE}` : "";
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ""}${add(TURNSTILE, CLERK_PROTECT)}${turnstileOnly}`,
    `style-src 'self' 'nonce-${nonce}'`,
    `img-src 'self' data:${add(CLERK_IMAGES)}`,
    "font-src 'self'",
    `connect-src 'self'${add(CLERK_IMAGES, `${CLERK_PROTECT}:*`)}`,
    ...(clerk ? [`frame-src 'self' ${clerk} ${TURNSTILE} ${CLERK_PROTECT}`, "worker-src 'self' blob:"] : turnstileOnly ? [`frame-src${turnstileOnly}`] : []),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (options.https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}
