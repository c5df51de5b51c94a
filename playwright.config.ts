import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { billingServerEnv, BILLING_URL } from "./e2e/billing-server";
import { e2eCertificate } from "./e2e/oauth-client";

/**
 * E2E against the production build, in Debian's Chromium (Playwright cannot download its own
 * browser here). The server runs on a throwaway data dir with a fixed test port.
 */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 3210);
export const E2E_URL = `http://localhost:${E2E_PORT}`;
export const E2E_DATA_DIR = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), `enclave-e2e-${process.pid}`);
process.env.E2E_DATA_DIR = E2E_DATA_DIR;

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const runningAsRoot = process.getuid?.() === 0;

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  timeout: 60_000,
  reporter: [["list"], ["json", { outputFile: "reports/e2e.json" }]],
  use: {
    baseURL: E2E_URL,
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        ...(runningAsRoot ? ["--no-sandbox"] : []),
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: "npm start",
      url: `${E2E_URL}/api/health`,
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        ENCLAVE_DATA_DIR: E2E_DATA_DIR,
        PORT: String(E2E_PORT),
        ENCLAVE_PUBLIC_URL: E2E_URL,
        LOG_LEVEL: "warn",
        // The metadata-document e2e publishes its client document on loopback https.
        ENCLAVE_CIMD_ALLOWED_HOSTS: "127.0.0.1",
        NODE_EXTRA_CA_CERTS: e2eCertificate().cert,
        // Access tokens that expire within a test, so the MCP e2e sees the SDK refresh one.
        ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS: "5",
      },
    },
    // Billing on (e2e/billing.spec.ts): its own port and data dir, Razorpay faked by the spec.
    {
      command: "npm start",
      url: `${BILLING_URL}/api/health`,
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: billingServerEnv(),
    },
  ],
});
