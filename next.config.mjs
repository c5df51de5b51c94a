/**
 * Security headers are not configured here: server.ts gives every response the set in
 * lib/http/security-headers.ts (Next's own error answers included, which `headers()` here
 * would miss), and proxy.ts gives each page its nonce CSP.
 *
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  poweredByHeader: false,
  // Native and worker-thread modules stay out of the bundle and load from node_modules.
  serverExternalPackages: ["@journeyapps/sqlcipher", "@node-rs/argon2", "pino", "razorpay"],
};

export default nextConfig;
