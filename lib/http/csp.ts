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
 *
 * `billing` (Razorpay keys set, and only on the Billing page, /w/<id>/billing: proxy.ts) adds
 * the Checkout script's origin (RAZORPAY_CHECKOUT_URL; checkout.razorpay.com unless moved) to
 * script-src and frame-src, and what Razorpay's own integrations list for Checkout in their
 * CSP allow-list (razorpay-magento etc/csp_whitelist.xml): cdn.razorpay.com for the scripts
 * and images Checkout loads, api.razorpay.com for its payment frame, and lumberjack(-metrics)
 * .razorpay.com, where Checkout reports its own events. The page loads the script with its
 * nonce; the host sources serve only browsers without 'strict-dynamic'. Every other page, and
 * every page with billing off, names nothing of Razorpay.
 */
export type CspOptions = { dev: boolean; https: boolean; clerk?: { frontendApi: string } | null; turnstile?: boolean; billing?: { checkoutOrigin: string } | null };

const TURNSTILE = "https://challenges.cloudflare.com";
const CLERK_IMAGES = "https://img.clerk.com";
const CLERK_PROTECT = "https://*.protect.clerk.com";
const RAZORPAY_CDN = "https://cdn.razorpay.com";
const RAZORPAY_API = "https://api.razorpay.com";
const RAZORPAY_EVENTS = ["https://lumberjack.razorpay.com", "https://lumberjack-metrics.razorpay.com"];

/** The sources the Billing page adds, per directive (see above). */
export function billingSources(checkoutOrigin: string): Record<"script-src" | "frame-src" | "img-src" | "connect-src", string[]> {
  const unique = (...sources: string[]) => [...new Set(sources)];
  return {
    "script-src": unique(checkoutOrigin, RAZORPAY_CDN),
    "frame-src": unique(checkoutOrigin, RAZORPAY_API),
    "img-src": [RAZORPAY_CDN],
    "connect-src": RAZORPAY_EVENTS,
  };
}

export function contentSecurityPolicy(nonce: string, options: CspOptions): string {
  const clerk = options.clerk ? options.clerk.frontendApi : null;
  // Clerk's Frontend API and `sources`, appended to a directive in Clerk mode only.
  const add = (...sources: string[]) => (clerk ? ` ${[clerk, ...sources].join(" ")}` : "");
  const turnstileOnly = !clerk && options.turnstile ? ` ${TURNSTILE}` : "";
  const razorpay = options.billing ? billingSources(options.billing.checkoutOrigin) : null;
  const pay = (directive: keyof ReturnType<typeof billingSources>) => (razorpay ? ` ${razorpay[directive].join(" ")}` : "");
  const frames = clerk ? `frame-src 'self' ${clerk} ${TURNSTILE} ${CLERK_PROTECT}${pay("frame-src")}` : turnstileOnly || razorpay ? `frame-src${turnstileOnly}${pay("frame-src")}` : null;
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ""}${add(TURNSTILE, CLERK_PROTECT)}${turnstileOnly}${pay("script-src")}`,
    `style-src 'self' 'nonce-${nonce}'`,
    `img-src 'self' data:${add(CLERK_IMAGES)}${pay("img-src")}`,
    "font-src 'self'",
    `connect-src 'self'${add(CLERK_IMAGES, `${CLERK_PROTECT}:*`)}${pay("connect-src")}`,
    ...(frames ? [frames] : []),
    ...(clerk ? ["worker-src 'self' blob:"] : []),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (options.https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}
