import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, setConfigForTests } from "../config";
import { clearedSessionCookie, readSessionToken, sessionCookie } from "./cookies";

afterEach(() => setConfigForTests(undefined));

describe("the session cookie", () => {
  it("is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain on https", () => {
    setConfigForTests(parseConfig({ ENCLAVE_PUBLIC_URL: "https://enclave.example.com" }));
    const header = sessionCookie("token-value", Date.now() + 60_000);
    expect(header).toMatch(/^__Host-enclave_session=token-value;/);
    for (const attribute of ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"]) expect(header).toContain(attribute);
    expect(header).not.toMatch(/Domain=/i);
    expect(readSessionToken("other=1; __Host-enclave_session=token-value")).toBe("token-value");
    // The unprefixed name is not read on https: a cookie an attacker planted without Secure is ignored.
    expect(readSessionToken("enclave_session=planted")).toBeUndefined();
  });

  it("drops the prefix and Secure only on plain-http loopback", () => {
    setConfigForTests(parseConfig({ ENCLAVE_PUBLIC_URL: "http://localhost:3000" }));
    const header = sessionCookie("t", Date.now() + 60_000);
    expect(header).toMatch(/^enclave_session=t;/);
    expect(header).not.toContain("Secure");
    expect(header).toContain("HttpOnly");
    expect(clearedSessionCookie()).toMatch(/^enclave_session=; Max-Age=0;/);
  });
});
