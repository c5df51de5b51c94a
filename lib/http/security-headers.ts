/**
 * The headers every response carries — pages, JSON, static files, redirects and the error
 * answers of the server itself. server.ts adds each one a response has not set on its own, so
 * a route can still narrow or widen one on purpose (proxy.ts gives pages their nonce CSP,
 * artifact downloads a sandbox CSP, CORS endpoints a cross-origin CORP, the OAuth consent
 * pages no COOP).
 *
 * Non-page responses get a CSP that allows nothing: a JSON body or an error page that a
 * browser was tricked into rendering runs no script, loads nothing and cannot be framed.
 */
export const NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const securityHeaders: Readonly<Record<string, string>> = {
  "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
  // No other site's window keeps a handle on ours, and no other site embeds our responses.
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": NO_CONTENT_CSP,
};
