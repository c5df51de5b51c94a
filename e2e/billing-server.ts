import os from "node:os";
import path from "node:path";
import type { RazorpayKeys } from "../test/razorpay";

/**
 * The second e2e server: billing on, against a fake Razorpay the billing spec starts on a
 * fixed port (the server's env names its URL before it runs). Fixed test keys, so the fake's
 * stand-in Checkout signs with the secret this server verifies with; they open nothing real.
 */
export const BILLING_PORT = Number(process.env.E2E_BILLING_PORT ?? 3211);
export const BILLING_URL = `http://localhost:${BILLING_PORT}`;
export const FAKE_RAZORPAY_PORT = Number(process.env.E2E_FAKE_RAZORPAY_PORT ?? 3298);
export const FAKE_RAZORPAY_URL = `http://127.0.0.1:${FAKE_RAZORPAY_PORT}`;
export const BILLING_KEYS: RazorpayKeys = { keyId: "rzp_test_E2eBilling01", keySecret: "e2e-checkout-key-s3cret", webhookSecret: "e2e-webhook-s3cret" };

// Set once in the runner's process, read by its workers, as E2E_DATA_DIR is.
export const BILLING_DATA_DIR = process.env.E2E_BILLING_DATA_DIR ?? path.join(os.tmpdir(), `enclave-e2e-billing-${process.pid}`);
process.env.E2E_BILLING_DATA_DIR = BILLING_DATA_DIR;

export function billingServerEnv(): Record<string, string> {
  return {
    ENCLAVE_DATA_DIR: BILLING_DATA_DIR,
    PORT: String(BILLING_PORT),
    ENCLAVE_PUBLIC_URL: BILLING_URL,
    LOG_LEVEL: "warn",
    RAZORPAY_KEY_ID: BILLING_KEYS.keyId,
    RAZORPAY_KEY_SECRET: BILLING_KEYS.keySecret,
    RAZORPAY_WEBHOOK_SECRET: BILLING_KEYS.webhookSecret,
    RAZORPAY_API_URL: FAKE_RAZORPAY_URL,
    RAZORPAY_CHECKOUT_URL: `${FAKE_RAZORPAY_URL}/checkout.js`,
    ENCLAVE_PLANS_FILE: path.resolve(import.meta.dirname, "../ops/plans.example.json"),
  };
}
