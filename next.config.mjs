/**
 * Headers every response carries. The Content-Security-Policy is not here: it carries a
 * fresh nonce per request, so proxy.ts adds it (see lib/http/csp.ts).
 */
const securityHeaders = [
  { key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains; preload" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Native and worker-thread modules stay out of the bundle and load from node_modules.
  serverExternalPackages: ["@journeyapps/sqlcipher", "@node-rs/argon2", "pino"],
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
