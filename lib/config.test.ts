import { generateKeyPairSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config";

/** Asserts the env is refused with a ConfigError that names `variable`. */
function expectRefused(env: Record<string, string>, variable: string): ConfigError {
  let caught: unknown;
  try {
    parseConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).message).toContain(variable);
  return caught as ConfigError;
}

describe("ENCLAVE_MASTER_KEY must be exactly 32 bytes, hex or base64", () => {
  const key = randomBytes(32);

  it.each([
    ["too-short hex", "abcd"],
    ["63 hex characters", key.toString("hex").slice(1)],
    ["66 hex characters", key.toString("hex") + "ab"],
    ["64 characters that are not hex", "g".repeat(64)],
    ["base64 of 31 bytes", randomBytes(31).toString("base64")],
    ["base64 of 33 bytes", randomBytes(33).toString("base64")],
    ["base64 with its padding stripped", key.toString("base64").replace(/=+$/, "")],
    ["garbage", "not a key at all, not a key at all, not a key at all, not a key!!"],
  ])("refuses %s with a ConfigError naming the variable", (_, value) => {
    expectRefused({ ENCLAVE_MASTER_KEY: value }, "ENCLAVE_MASTER_KEY");
  });

  it("never echoes the rejected key material in the error", () => {
    const almost = randomBytes(31).toString("hex");
    const error = expectRefused({ ENCLAVE_MASTER_KEY: almost }, "ENCLAVE_MASTER_KEY");
    expect(error.message).not.toContain(almost);
  });

  it("accepts hex (either case) and base64 of the same 32 bytes as the same key", () => {
    const fromHex = parseConfig({ ENCLAVE_MASTER_KEY: key.toString("hex") }).ENCLAVE_MASTER_KEY;
    const fromUpperHex = parseConfig({ ENCLAVE_MASTER_KEY: key.toString("hex").toUpperCase() }).ENCLAVE_MASTER_KEY;
    const fromBase64 = parseConfig({ ENCLAVE_MASTER_KEY: key.toString("base64") }).ENCLAVE_MASTER_KEY;
    expect(fromHex?.equals(key)).toBe(true);
    expect(fromUpperHex?.equals(key)).toBe(true);
    expect(fromBase64?.equals(key)).toBe(true);
  });

  it("treats an empty value as unset (the key then comes from DATA_DIR/master.key)", () => {
    expect(parseConfig({ ENCLAVE_MASTER_KEY: "" }).ENCLAVE_MASTER_KEY).toBeUndefined();
    expect(parseConfig({}).ENCLAVE_MASTER_KEY).toBeUndefined();
  });
});

describe("PORT must be a TCP port number", () => {
  it.each(["abc", "0", "70000", "3.5", "-1"])("refuses PORT=%s with a ConfigError naming PORT", (value) => {
    expectRefused({ PORT: value }, "PORT");
  });

  it("accepts a valid port and defaults to 3000", () => {
    expect(parseConfig({ PORT: "8080" }).PORT).toBe(8080);
    expect(parseConfig({}).PORT).toBe(3000);
  });
});

describe("ENCLAVE_PUBLIC_URL must be an https origin unless it is loopback", () => {
  it.each([
    ["plain http off loopback", "http://example.com"],
    ["plain http to a loopback look-alike host", "http://localhost.example.com"],
    ["plain http to a non-loopback IP", "http://10.0.0.1:3000"],
    ["a path", "https://x.example/enclave"],
    ["a query", "https://x.example/?a=1"],
    ["a fragment", "https://x.example/#top"],
    ["another scheme", "ftp://localhost"],
    ["something that is not a URL", "enclave.example.com"],
  ])("refuses %s (%s) with a ConfigError naming the variable", (_, value) => {
    expectRefused({ ENCLAVE_PUBLIC_URL: value }, "ENCLAVE_PUBLIC_URL");
  });

  it.each(["http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:3000"])(
    "accepts the loopback origin %s, without Secure cookies",
    (value) => {
      const config = parseConfig({ ENCLAVE_PUBLIC_URL: value });
      expect(config.ENCLAVE_PUBLIC_URL.origin).toBe(value);
      expect(config.secureCookies).toBe(false);
    },
  );

  it("accepts an https origin and then uses Secure cookies", () => {
    const config = parseConfig({ ENCLAVE_PUBLIC_URL: "https://x.example" });
    expect(config.ENCLAVE_PUBLIC_URL.origin).toBe("https://x.example");
    expect(config.secureCookies).toBe(true);
  });
});

describe("other settings fail closed", () => {
  it.each([
    ["ENCLAVE_WORKSPACE_CACHE_SIZE", "0"],
    ["ENCLAVE_WORKSPACE_CACHE_SIZE", "many"],
    ["ENCLAVE_BODY_LIMIT_BYTES", "-5"],
    ["ENCLAVE_TRUST_PROXY", "yes"],
    ["ENCLAVE_AUTH_PROVIDER", "none"],
    ["LOG_LEVEL", "loud"],
  ])("refuses %s=%s, naming it", (name, value) => {
    expectRefused({ [name]: value }, name);
  });

  it("resolves the data dir to an absolute path", () => {
    expect(parseConfig({ ENCLAVE_DATA_DIR: "relative/dir" }).dataDir).toBe(`${process.cwd()}/relative/dir`);
  });
});

describe("Clerk mode needs all four CLERK_* variables, each well-formed", () => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const good = {
    ENCLAVE_AUTH_PROVIDER: "clerk",
    CLERK_PUBLISHABLE_KEY: `pk_test_${Buffer.from("clerk.example.com$").toString("base64")}`,
    CLERK_SECRET_KEY: "sk_test_abc123DEF456",
    CLERK_JWT_KEY: pem,
    CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
  };

  it("accepts a complete set, decoding the Frontend API from the publishable key and a PEM pasted with literal \\n", () => {
    const config = parseConfig({ ...good, CLERK_JWT_KEY: pem.replace(/\n/g, "\\n") });
    expect(config.clerk).toMatchObject({ frontendApi: "https://clerk.example.com", apiUrl: "https://api.clerk.com", secretKey: good.CLERK_SECRET_KEY });
    expect(config.clerk?.jwtKey).toContain("-----BEGIN PUBLIC KEY-----\n");
  });

  it.each(["CLERK_PUBLISHABLE_KEY", "CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_WEBHOOK_SIGNING_SECRET"] as const)("refuses to start without %s, naming it", (name) => {
    const rest: Record<string, string> = { ...good };
    delete rest[name];
    expectRefused(rest, name);
  });

  const ecKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
  it.each([
    ["CLERK_PUBLISHABLE_KEY", "pk_prod_abc"],
    ["CLERK_PUBLISHABLE_KEY", `pk_test_${Buffer.from("no-dollar.example.com").toString("base64")}`],
    ["CLERK_PUBLISHABLE_KEY", `pk_live_${Buffer.from("not a host$").toString("base64")}`],
    ["CLERK_SECRET_KEY", "sk_nope_abc"],
    ["CLERK_SECRET_KEY", "pk_test_abc"],
    ["CLERK_JWT_KEY", "not a pem"],
    ["CLERK_JWT_KEY", ecKey],
    ["CLERK_WEBHOOK_SIGNING_SECRET", "secret"],
    ["CLERK_API_URL", "ftp://api.clerk.com"],
  ] as const)("refuses a malformed %s (%s), naming it", (name, value) => {
    expectRefused({ ...good, [name]: value }, name);
  });

  it("needs none of them, and builds no Clerk config, in local mode", () => {
    expect(parseConfig({}).clerk).toBeNull();
    expect(parseConfig({ CLERK_JWT_KEY: "ignored in local mode" }).clerk).toBeNull();
  });
});

describe("billing: the three Razorpay keys and ENCLAVE_PLANS_FILE, all or none", () => {
  const plansFile = path.resolve("ops/plans.example.json");
  const good = { RAZORPAY_KEY_ID: "rzp_test_abcDEF123", RAZORPAY_KEY_SECRET: "s3cret-key-value", RAZORPAY_WEBHOOK_SECRET: "webhook-secret-1", ENCLAVE_PLANS_FILE: plansFile };

  it("is off with none of them: no billing config, every workspace free and unlimited", () => {
    expect(parseConfig({}).billing).toBeNull();
  });

  it("a partial set stops the server naming each missing key, and never echoes the secrets it was given", () => {
    const error = expectRefused({ RAZORPAY_KEY_ID: good.RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET: good.RAZORPAY_KEY_SECRET, ENCLAVE_PLANS_FILE: plansFile }, "RAZORPAY_WEBHOOK_SECRET");
    expect(error.message).not.toContain(good.RAZORPAY_KEY_SECRET);
    const two = expectRefused({ RAZORPAY_WEBHOOK_SECRET: good.RAZORPAY_WEBHOOK_SECRET }, "RAZORPAY_KEY_ID");
    expect(two.message).toContain("RAZORPAY_KEY_SECRET");
  });

  it("the keys without a plans file, or a plans file without the keys, are refused by name", () => {
    expectRefused({ ...good, ENCLAVE_PLANS_FILE: "" }, "ENCLAVE_PLANS_FILE");
    expectRefused({ ENCLAVE_PLANS_FILE: plansFile }, "ENCLAVE_PLANS_FILE");
  });

  it("a malformed key id, a missing or invalid plans file, are refused before anything starts", () => {
    expectRefused({ ...good, RAZORPAY_KEY_ID: "key_abc" }, "RAZORPAY_KEY_ID");
    expectRefused({ ...good, ENCLAVE_PLANS_FILE: "/nonexistent/plans.json" }, "ENCLAVE_PLANS_FILE");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enclave-plans-"));
    const noFree = path.join(dir, "plans.json");
    fs.writeFileSync(noFree, JSON.stringify({ plans: [{ id: "team", name: "Team", razorpayPlanId: "plan_X1", price: { amount: 1, currency: "INR", interval: "month" }, limits: { members: 1, storageMb: 1, teamTokens: 1, aiClients: 1 } }] }));
    expect(expectRefused({ ...good, ENCLAVE_PLANS_FILE: noFree }, "ENCLAVE_PLANS_FILE").message).toMatch(/"free" is required/);
  });

  it("a complete set turns billing on with the example plans; the Checkout origin is derived from its script's URL", () => {
    const billing = parseConfig(good).billing!;
    expect(billing).toMatchObject({ keyId: good.RAZORPAY_KEY_ID, apiUrl: "https://api.razorpay.com", checkoutOrigin: "https://checkout.razorpay.com" });
    expect(billing.plans.map((plan) => plan.id)).toEqual(["free", "team", "business"]);
    expect(billing.plans[0]!.limits).toEqual({ members: 3, storageMb: 50, teamTokens: 2, aiClients: 2 });
  });
});
