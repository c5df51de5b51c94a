import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "./csp";

const directives = (csp: string) => new Map(csp.split("; ").map((directive) => [directive.split(" ")[0]!, directive.split(" ").slice(1)]));

describe("the CSP lets Clerk in only in Clerk mode", () => {
  const local = directives(contentSecurityPolicy("n0nce", { dev: false, https: true }));
  const clerk = directives(contentSecurityPolicy("n0nce", { dev: false, https: true, clerk: { frontendApi: "https://clerk.example.com" } }));

  it("local mode names no third-party origin at all, and no frame or worker source", () => {
    for (const [name, sources] of local) {
      for (const source of sources) expect(source.startsWith("https://") || source === "blob:", `${name} ${source}`).toBe(false);
    }
    expect(local.has("frame-src")).toBe(false);
    expect(local.has("worker-src")).toBe(false);
  });

  it("Clerk mode adds the Frontend API, Clerk's image host, Turnstile and blob: workers where Clerk documents them", () => {
    expect(clerk.get("script-src")).toEqual(expect.arrayContaining(["'nonce-n0nce'", "'strict-dynamic'", "https://clerk.example.com", "https://challenges.cloudflare.com"]));
    expect(clerk.get("connect-src")).toEqual(expect.arrayContaining(["'self'", "https://clerk.example.com"]));
    expect(clerk.get("img-src")).toEqual(expect.arrayContaining(["https://clerk.example.com", "https://img.clerk.com"]));
    expect(clerk.get("frame-src")).toEqual(expect.arrayContaining(["https://clerk.example.com", "https://challenges.cloudflare.com"]));
    expect(clerk.get("worker-src")).toEqual(["'self'", "blob:"]);
  });

  it("Clerk mode loosens nothing else: no 'unsafe-inline', no wildcard scheme, framing and plugins still off", () => {
    const all = [...clerk.values()].flat();
    expect(all).not.toContain("'unsafe-inline'");
    expect(all).not.toContain("https:");
    expect(all).not.toContain("*");
    expect(clerk.get("style-src")).toEqual(local.get("style-src"));
    expect(clerk.get("frame-ancestors")).toEqual(["'none'"]);
    expect(clerk.get("object-src")).toEqual(["'none'"]);
    expect(clerk.get("default-src")).toEqual(["'self'"]);
  });
});

describe("Turnstile in local mode", () => {
  const without = directives(contentSecurityPolicy("n0nce", { dev: false, https: true }));
  const withTurnstile = directives(contentSecurityPolicy("n0nce", { dev: false, https: true, turnstile: true }));

  it("adds challenges.cloudflare.com to script-src and frame-src, and nothing else", () => {
    expect(withTurnstile.get("script-src")).toEqual([...without.get("script-src")!, "https://challenges.cloudflare.com"]);
    expect(withTurnstile.get("frame-src")).toEqual(["https://challenges.cloudflare.com"]);
    for (const [name, sources] of withTurnstile) if (name !== "script-src" && name !== "frame-src") expect(sources, name).toEqual(without.get(name));
    expect(withTurnstile.size).toBe(without.size + 1);
  });
});

describe("Razorpay Checkout, on the Billing page only", () => {
  const without = directives(contentSecurityPolicy("n0nce", { dev: false, https: true }));
  const checkout = "https://checkout.razorpay.com";
  const withBilling = directives(contentSecurityPolicy("n0nce", { dev: false, https: true, billing: { checkoutOrigin: checkout } }));

  it("adds the Checkout origin to script-src and frame-src, and only the hosts Razorpay lists for Checkout elsewhere", () => {
    expect(withBilling.get("script-src")).toEqual([...without.get("script-src")!, checkout, "https://cdn.razorpay.com"]);
    expect(withBilling.get("frame-src")).toEqual([checkout, "https://api.razorpay.com"]);
    expect(withBilling.get("img-src")).toEqual([...without.get("img-src")!, "https://cdn.razorpay.com"]);
    expect(withBilling.get("connect-src")).toEqual([...without.get("connect-src")!, "https://lumberjack.razorpay.com", "https://lumberjack-metrics.razorpay.com"]);
    for (const [name, sources] of withBilling) if (!["script-src", "frame-src", "img-src", "connect-src"].includes(name)) expect(sources, name).toEqual(without.get(name));
    expect(withBilling.size).toBe(without.size + 1);
    const all = [...withBilling.values()].flat();
    for (const loose of ["'unsafe-inline'", "https:", "*", "https://*.razorpay.com"]) expect(all).not.toContain(loose);
  });

  it("a moved Checkout (a test fake) is named as it is; without the option nothing of Razorpay appears", () => {
    const fake = directives(contentSecurityPolicy("n0nce", { dev: false, https: false, billing: { checkoutOrigin: "http://127.0.0.1:3298" } }));
    expect(fake.get("script-src")).toContain("http://127.0.0.1:3298");
    expect(fake.get("frame-src")).toContain("http://127.0.0.1:3298");
    expect(contentSecurityPolicy("n0nce", { dev: false, https: true, billing: null })).not.toContain("razorpay");
    expect(contentSecurityPolicy("n0nce", { dev: false, https: true })).not.toContain("razorpay");
  });

  it("in Clerk mode the Billing page keeps Clerk's frame sources and adds Razorpay's after them", () => {
    const both = directives(contentSecurityPolicy("n0nce", { dev: false, https: true, clerk: { frontendApi: "https://clerk.example.com" }, billing: { checkoutOrigin: checkout } }));
    expect(both.get("frame-src")).toEqual(["'self'", "https://clerk.example.com", "https://challenges.cloudflare.com", "https://*.protect.clerk.com", checkout, "https://api.razorpay.com"]);
    expect(both.get("worker-src")).toEqual(["'self'", "blob:"]);
  });
});
