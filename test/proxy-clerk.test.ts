import { NextFetchEvent } from "next/dist/server/web/spec-extension/fetch-event";
import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, setConfigForTests } from "@/lib/config";
import { clerkEnv, clerkKeys, FRONTEND_API } from "./clerk";

const keys = clerkKeys();
// @clerk/nextjs reads the secret key from the environment itself (proxy.ts says why), as on a server whose env config.ts parsed.
process.env.CLERK_SECRET_KEY = keys.secretKey;
const { proxy } = await import("@/proxy");

/** The proxy as Next calls it, for one page request. */
async function front(pathname: string, env: Record<string, string>, cookie?: string) {
  setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: "/tmp/unused", ...env }));
  const request = new NextRequest(new URL(pathname, "http://localhost:3000"), { headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } });
  return (await proxy(request, new NextFetchEvent({ request, page: pathname, context: undefined }))) as Response;
}

afterEach(() => setConfigForTests(undefined));
// A production instance's key: a development one (pk_test_) first sends a cookieless browser through Clerk's dev-browser handshake.
const clerk = { ...clerkEnv(keys, "http://127.0.0.1:9"), CLERK_PUBLISHABLE_KEY: `pk_live_${Buffer.from("clerk.enclave.test$").toString("base64")}` };
const clerkDev = clerkEnv(keys, "http://127.0.0.1:9");

describe("the proxy in each mode", () => {
  it("local mode: no session cookie → sign-in, with a CSP naming no Clerk origin", async () => {
    const response = await front("/workspaces", {});
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("http://localhost:3000/sign-in");
    expect(response.headers.get("content-security-policy")).not.toContain("clerk");
  });

  it("local mode: a Clerk cookie is no session cookie", async () => {
    expect((await front("/workspaces", {}, "__session=x")).status).toBe(307);
  });

  it("Clerk mode (inside clerkMiddleware): no __session → sign-in, and pages get the Clerk origins in their CSP", async () => {
    const redirected = await front("/workspaces", clerk);
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get("location")).toBe("http://localhost:3000/sign-in");
    const page = await front("/sign-in", clerk);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain(`script-src 'self' 'nonce-`);
    expect(page.headers.get("content-security-policy")).toContain(FRONTEND_API);
  });

  it("Clerk mode runs Clerk's middleware: a development instance hands a cookieless browser to its own Frontend API's handshake, nowhere else", async () => {
    const response = await front("/workspaces", clerkDev);
    expect(response.status).toBe(307);
    expect(new URL(response.headers.get("location")!).origin).toBe(FRONTEND_API);
  });

  it("Clerk mode: the local session cookie opens no page", async () => {
    expect((await front("/workspaces", clerk, "enclave_session=enc_ss_x")).status).toBe(307);
  });
});

describe("Turnstile in the CSP, local mode", () => {
  const turnstile = { TURNSTILE_SITE_KEY: "0x4AAAAAAAtestsitekey", TURNSTILE_SECRET_KEY: "0x4AAAAAAAtestsecret" };

  it("only the request-access page names challenges.cloudflare.com, and only when a site key is set", async () => {
    const csp = async (pathname: string, env: Record<string, string>) => (await front(pathname, env)).headers.get("content-security-policy") ?? "";
    expect(await csp("/request-access", turnstile)).toContain("frame-src https://challenges.cloudflare.com");
    for (const pathname of ["/sign-in", "/sign-up", "/security", "/cookies"]) expect(await csp(pathname, turnstile), pathname).not.toContain("cloudflare");
    expect(await csp("/request-access", {})).not.toContain("cloudflare");
  });
});

