import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/config";

describe("environment validation", () => {
  it("has working defaults", () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.ENCLAVE_PUBLIC_URL.origin).toBe("http://localhost:3000");
    expect(config.ENCLAVE_WORKSPACE_CACHE_SIZE).toBe(256);
    expect(config.ENCLAVE_BODY_LIMIT_BYTES).toBe(1024 * 1024);
    expect(config.secureCookies).toBe(false);
    expect(config.ENCLAVE_MASTER_KEY).toBeUndefined();
  });

  it("accepts a master key as 64 hex characters or base64 of 32 bytes", () => {
    const key = randomBytes(32);
    expect(parseConfig({ ENCLAVE_MASTER_KEY: key.toString("hex") }).ENCLAVE_MASTER_KEY?.equals(key)).toBe(true);
    expect(parseConfig({ ENCLAVE_MASTER_KEY: key.toString("base64") }).ENCLAVE_MASTER_KEY?.equals(key)).toBe(true);
  });

  it.each([
    ["ENCLAVE_MASTER_KEY", "abcd"],
    ["ENCLAVE_MASTER_KEY", randomBytes(31).toString("base64")],
    ["ENCLAVE_MASTER_KEY", "not a key at all, not a key at all, not a key at all, not a key!!"],
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["ENCLAVE_PUBLIC_URL", "http://example.com"],
    ["ENCLAVE_PUBLIC_URL", "https://example.com/enclave"],
    ["ENCLAVE_PUBLIC_URL", "ftp://localhost"],
    ["ENCLAVE_WORKSPACE_CACHE_SIZE", "0"],
    ["ENCLAVE_TRUST_PROXY", "yes"],
  ])("refuses %s=%s, naming the variable", (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });

  it("uses Secure cookies exactly when the public URL is https", () => {
    expect(parseConfig({ ENCLAVE_PUBLIC_URL: "https://enclave.example.com" }).secureCookies).toBe(true);
    expect(parseConfig({ ENCLAVE_PUBLIC_URL: "http://127.0.0.1:8080" }).secureCookies).toBe(false);
  });
});
