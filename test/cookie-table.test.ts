import fs from "node:fs";
import path from "node:path";
import { constants as clerkConstants } from "@clerk/backend/internal";
import { afterEach, describe, expect, it } from "vitest";
import { CLERK_CLEARED_COOKIES, sessionCookieName } from "@/lib/auth/cookies";
import { setConfigForTests } from "@/lib/config";
import { consentCookie } from "@/lib/http/consent";
import { COOKIE_TABLE, CONSENT_COOKIE, cookiesFor } from "@/lib/http/cookie-table";
import { cookieContext } from "@/lib/trust/cookie-context";
import { testConfig } from "./store";

/**
 * /cookies lists every cookie the instance can set, from one table. These tests hold the code
 * to it: every place in the source that sets a cookie is found by text and must name a cookie
 * through the table, and Clerk's cookies are checked against Clerk's own list of names.
 */
const ROOT = path.resolve(import.meta.dirname, "..");
const names = new Set(COOKIE_TABLE.map((row) => row.name));
afterEach(() => setConfigForTests(undefined));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(full);
    return /\.(ts|tsx|mjs)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}
const sources = [...sourceFiles(path.join(ROOT, "app")), ...sourceFiles(path.join(ROOT, "lib")), path.join(ROOT, "proxy.ts"), path.join(ROOT, "server.ts")].map((file) => ({
  file: path.relative(ROOT, file),
  text: fs.readFileSync(file, "utf8"),
}));
const occurrences = (pattern: RegExp) => sources.flatMap(({ file, text }) => [...text.matchAll(pattern)].map((match) => ({ file, match })));

describe("the cookie table", () => {
  it("lists each name once", () => {
    expect(names.size).toBe(COOKIE_TABLE.length);
  });

  it("holds the session cookie's name in both its forms, and the consent cookie", () => {
    setConfigForTests(testConfig("/tmp/enclave-cookies-unused", { ENCLAVE_PUBLIC_URL: "https://enclave.example.com" }));
    expect(names).toContain(sessionCookieName());
    setConfigForTests(testConfig("/tmp/enclave-cookies-unused"));
    expect(names).toContain(sessionCookieName());
    expect(names).toContain(consentCookie(["turnstile"], { https: true }).split("=")[0]);
    expect(names).toContain(CONSENT_COOKIE);
  });

  it("names every cookie cookie.serialize() is asked to make in the source", () => {
    const calls = occurrences(/\bserialize\(\s*([^,]+),/g);
    for (const name of CLERK_CLEARED_COOKIES) expect(names, name).toContain(name);
    expect(calls.length).toBeGreaterThan(0);
    const unlisted = calls.filter(({ file, match }) => {
      const first = match[1]!.trim();
      if (first === "sessionCookieName()" || first === "CONSENT_COOKIE") return false;
      // Sign-out's clearing of Clerk's cookies: its names are CLERK_CLEARED_COOKIES, held to the table below.
      if (first === "name" && file === path.join("lib", "auth", "cookies.ts")) return false;
      const literal = /^["'`]([^"'`]+)["'`]$/.exec(first);
      return !literal || !names.has(literal[1]!);
    });
    expect(unlisted.map(({ file, match }) => `${file}: ${match[0]}`)).toEqual([]);
  });

  it("finds a Set-Cookie header, a cookie store's set() or document.cookie only where they use the table's cookie makers", () => {
    const makers = /^(sessionCookie|clearedSessionCookie|consentCookie|clearedClerkCookie)\(/;
    const headerSets = occurrences(/["']set-cookie["']\s*[:,]\s*([^\n]+)/gi).filter(({ match }) => !/\.get\(/.test(match[0]));
    expect(headerSets.length).toBeGreaterThan(0);
    const stray = [
      ...headerSets.filter(({ match }) => !makers.test(match[1]!.trim())),
      ...occurrences(/document\.cookie\s*=\s*([^\n]+)/g).filter(({ match }) => !makers.test(match[1]!.trim())),
      ...occurrences(/\b(?:cookies\(\)\)?|jar|cookieStore|\.cookies)\.set\(/g),
    ];
    expect(stray.map(({ file, match }) => `${file}: ${match[0]}`)).toEqual([]);
  });

  it("holds every cookie Clerk's SDK names, and Clerk's own __client", () => {
    const clerkNames = Object.values(clerkConstants.Cookies);
    expect(clerkNames).toContain("__session");
    for (const name of [...clerkNames, "__client"]) expect(names, name).toContain(name);
  });
});

describe("which cookies an instance shows", () => {
  const shown = (env: Record<string, string>) => cookiesFor(cookieContext(testConfig("/tmp/enclave-cookies-unused", env))).map((row) => row.name);

  it("on the plain local default: the http session cookie only, no consent cookie, nothing from Clerk or Cloudflare", () => {
    expect(shown({})).toEqual(["enclave_session"]);
  });

  it("on https: the __Host- session cookie instead", () => {
    expect(shown({ ENCLAVE_PUBLIC_URL: "https://enclave.example.com" })).toEqual(["__Host-enclave_session"]);
  });

  it("with Turnstile: the consent cookie and Cloudflare's, marked non-essential", () => {
    const rows = cookiesFor(cookieContext(testConfig("/tmp/enclave-cookies-unused", { TURNSTILE_SITE_KEY: "1x00000000000000000000AA", TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA" })));
    expect(rows.map((row) => row.name)).toEqual(["enclave_session", CONSENT_COOKIE, "cf_clearance"]);
    expect(rows.find((row) => row.name === "cf_clearance")).toMatchObject({ essential: false, setBy: "Cloudflare" });
    expect(rows.filter((row) => !row.essential).map((row) => row.name)).toEqual(["cf_clearance"]);
  });
});
