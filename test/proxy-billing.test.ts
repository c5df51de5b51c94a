import { NextFetchEvent } from "next/dist/server/web/spec-extension/fetch-event";
import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, setConfigForTests } from "@/lib/config";
import { proxy } from "@/proxy";
import { billingEnv, razorpayKeys } from "./razorpay";

/** The CSP the proxy gives one page request, signed in (a session cookie), with `env`. */
async function cspOf(pathname: string, env: Record<string, string>): Promise<string> {
  setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: "/tmp/unused", ...env }));
  const request = new NextRequest(new URL(pathname, "http://localhost:3000"), { headers: { accept: "text/html", cookie: "enclave_session=enc_ss_x" } });
  const response = (await proxy(request, new NextFetchEvent({ request, page: pathname, context: undefined }))) as Response;
  return response.headers.get("content-security-policy") ?? "";
}

afterEach(() => setConfigForTests(undefined));

const CHECKOUT = "https://checkout.razorpay.com";
const billing = { ...billingEnv(razorpayKeys(), "https://api.razorpay.com"), RAZORPAY_CHECKOUT_URL: `${CHECKOUT}/v1/checkout.js` };
const ws = `ws_${"ab".repeat(16)}`;

describe("Razorpay in the CSP", () => {
  it("only /w/<id>/billing names the Checkout origin, and only with billing on", async () => {
    const page = await cspOf(`/w/${ws}/billing`, billing);
    expect(page).toContain(`frame-src ${CHECKOUT} https://api.razorpay.com`);
    expect(page).toMatch(new RegExp(`script-src [^;]*${CHECKOUT}`));
    for (const pathname of [`/w/${ws}`, `/w/${ws}/settings`, `/w/${ws}/billing/x`, `/w/${ws}/billingx`, "/w/not-a-workspace/billing", "/workspaces", "/account", "/sign-in", "/security", "/api/workspaces"]) {
      expect(await cspOf(pathname, billing), pathname).not.toContain("razorpay");
    }
    expect(await cspOf(`/w/${ws}/billing`, {})).not.toContain("razorpay");
  });

  it("a moved Checkout (RAZORPAY_CHECKOUT_URL) is the origin named", async () => {
    const fake = billingEnv(razorpayKeys(), "http://127.0.0.1:3298");
    expect(await cspOf(`/w/${ws}/billing`, fake)).toContain("frame-src http://127.0.0.1:3298 https://api.razorpay.com");
  });
});
