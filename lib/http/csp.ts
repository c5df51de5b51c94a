/**
 * The Content-Security-Policy for one response. Scripts run only with this response's nonce
 * (and what they load, via 'strict-dynamic'); styles only from our own files or with the
 * nonce; no plugins, no framing, forms post only to us. Development adds 'unsafe-eval',
 * which React's dev build needs; production never has it.
 */
export function contentSecurityPolicy(nonce: string, options: { dev: boolean; https: boolean }): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (options.https) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}
