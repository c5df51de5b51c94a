import { afterEach, describe, expect, it } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { consentCategoriesFor, consentCookie, hasConsent, parseConsent, readConsent } from "@/lib/http/consent";
import { CONSENT_COOKIE } from "@/lib/http/cookie-table";
import { privacyRecipients, privacyRecords } from "@/lib/trust/privacy-records";
import { securityTxtExpires } from "@/lib/trust/security-txt";
import { request } from "./harness";
import { testConfig } from "./store";
import { billingEnv, razorpayKeys } from "./razorpay";

const config = (env: Record<string, string> = {}) => testConfig("/tmp/enclave-public-unused", env);
afterEach(() => setConfigForTests(undefined));

/** RFC 9116 §2.4: `Name: value` lines; each field's values, in order. */
function fields(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split("\n").filter(Boolean)) {
    const match = /^([A-Za-z-]+): (.+)$/.exec(line);
    if (!match) throw new Error(`not a field line: ${line}`);
    map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe("/.well-known/security.txt", () => {
  it("serves RFC 9116 fields: Contact from the config, Expires in the future, Policy, Canonical, Preferred-Languages, as text/plain", async () => {
    setConfigForTests(config({ ENCLAVE_PUBLIC_URL: "https://enclave.example.com", ENCLAVE_SECURITY_CONTACT: "mailto:security@example.com" }));
    const response = await request("/.well-known/security.txt");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const got = fields(await response.text());
    expect(got.get("Contact")).toEqual(["mailto:security@example.com"]);
    expect(got.get("Policy")).toEqual(["https://enclave.example.com/security"]);
    expect(got.get("Canonical")).toEqual(["https://enclave.example.com/.well-known/security.txt"]);
    expect(got.get("Preferred-Languages")).toEqual(["en"]);
    const [expires] = got.get("Expires") ?? [];
    expect(expires).toMatch(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/);
    const ms = Date.parse(expires!);
    expect(ms).toBeGreaterThan(Date.now() + 170 * 86_400_000);
    // RFC 9116 §2.5.5: less than a year ahead.
    expect(ms).toBeLessThan(Date.now() + 365 * 86_400_000);
  });

  it("takes Policy from ENCLAVE_SECURITY_POLICY_URL when set", async () => {
    setConfigForTests(config({ ENCLAVE_SECURITY_CONTACT: "https://example.com/report", ENCLAVE_SECURITY_POLICY_URL: "https://example.com/disclosure" }));
    const got = fields(await (await request("/.well-known/security.txt")).text());
    expect(got.get("Contact")).toEqual(["https://example.com/report"]);
    expect(got.get("Policy")).toEqual(["https://example.com/disclosure"]);
  });

  it("answers 404 in the JSON error shape, publishing no file, when no contact is configured", async () => {
    setConfigForTests(config());
    const response = await request("/.well-known/security.txt");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found", message: "This instance publishes no security contact." });
  });

  it("keeps Expires the same all day, so caches and the file agree", () => {
    const morning = Date.parse("2026-12-02T00:00:01Z");
    const night = Date.parse("2026-12-02T23:59:59Z");
    expect(securityTxtExpires(morning).toISOString()).toBe("2027-05-31T00:00:00.000Z");
    expect(securityTxtExpires(night)).toEqual(securityTxtExpires(morning));
  });

  it("refuses a Contact that is neither mailto: nor https: at start", () => {
    expect(() => config({ ENCLAVE_SECURITY_CONTACT: "http://example.com/report" })).toThrow(/ENCLAVE_SECURITY_CONTACT/);
    expect(() => config({ ENCLAVE_SECURITY_CONTACT: "javascript:alert(1)" })).toThrow(/ENCLAVE_SECURITY_CONTACT/);
  });
});

describe("consent", () => {
  it("is asked for only when something optional could load (a Turnstile key)", () => {
    expect(consentCategoriesFor(config())).toEqual([]);
    expect(consentCategoriesFor(config({ TURNSTILE_SITE_KEY: "1x00000000000000000000AA", TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA" }))).toEqual(["turnstile"]);
  });

  it("grants a category only after a well-formed cookie allows it", () => {
    const allowed = consentCookie(["turnstile"], { https: true });
    expect(allowed).toMatch(new RegExp(`^${CONSENT_COOKIE}=v1%3Aturnstile; Max-Age=31536000; Path=/; Secure; SameSite=Lax$`));
    const pair = allowed.split(";")[0]!;
    expect(hasConsent(pair, "turnstile")).toBe(true);
    expect(hasConsent({ get: (name) => (name === CONSENT_COOKIE ? { value: "v1:turnstile" } : undefined) }, "turnstile")).toBe(true);
  });

  it("treats no cookie, a declined choice and every malformed value as no consent", () => {
    expect(hasConsent(undefined, "turnstile")).toBe(false);
    expect(hasConsent(null, "turnstile")).toBe(false);
    expect(hasConsent("", "turnstile")).toBe(false);
    expect(hasConsent(consentCookie([], { https: false }).split(";")[0], "turnstile")).toBe(false);
    expect(readConsent(consentCookie([], { https: false }).split(";")[0])).toEqual(new Set());
    for (const forged of ["turnstile", "v1:", "v1:turnstile+", "v1:turnstile+payments", "v2:turnstile", "v1:TURNSTILE", "v1:none+turnstile", `v1:${"turnstile+".repeat(30)}turnstile`]) {
      expect(parseConsent(forged), forged).toBeNull();
      expect(hasConsent(`${CONSENT_COOKIE}=${encodeURIComponent(forged)}`, "turnstile"), forged).toBe(false);
    }
    // Another cookie of a similar name is not the consent cookie.
    expect(hasConsent("x_enclave_consent=v1:turnstile; enclave_consent_=v1:turnstile", "turnstile")).toBe(false);
  });

  it("sets no Secure flag on a plain-http localhost address, where the browser would drop it", () => {
    expect(consentCookie(["turnstile"], { https: false })).not.toContain("Secure");
  });
});

describe("/privacy records", () => {
  it("states the configured periods and lists only records this configuration makes", () => {
    const plain = privacyRecords(config({ ENCLAVE_AUDIT_RETENTION_DAYS: "400", ENCLAVE_CLOSURE_HOLD_DAYS: "12", ENCLAVE_SESSION_IDLE_MINUTES: "90" }));
    const byId = new Map(plain.map((record) => [record.id, record]));
    expect(byId.get("audit")?.kept).toBe("400 days, then swept.");
    expect(byId.get("account")?.kept).toContain("12 days of hold");
    expect(byId.get("sessions")?.kept).toContain("90 minutes unused");
    expect(byId.get("sessions")?.what).toContain("IP address");
    // Open sign-up on localhost, no SMTP, no backups: none of those records.
    expect([...byId.keys()]).not.toContain("access-requests");
    expect([...byId.keys()]).not.toContain("email-tokens");
    expect([...byId.keys()]).not.toContain("backups");
    expect([...byId.keys()]).not.toContain("billing");

    const full = privacyRecords(config({ ENCLAVE_SIGNUP: "invite", ENCLAVE_SMTP_URL: "smtp://127.0.0.1:2525", ENCLAVE_BACKUP_RECIPIENTS: `age1${"q".repeat(58)}`, ENCLAVE_BACKUP_RETENTION_DAYS: "21" }));
    const ids = full.map((record) => record.id);
    expect(ids).toEqual(expect.arrayContaining(["access-requests", "email-tokens", "backups"]));
    expect(full.find((record) => record.id === "backups")?.kept).toContain("21 days");
  });

  it("names who else receives data only when it is configured", () => {
    expect(privacyRecipients(config())).toEqual([]);
    const recipients = privacyRecipients(config({ ENCLAVE_SMTP_URL: "smtp://127.0.0.1:2525", TURNSTILE_SITE_KEY: "1x00000000000000000000AA", TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA" }));
    expect(recipients).toHaveLength(2);
    expect(recipients.join(" ")).toMatch(/mail server.*Cloudflare.*only if you allow it/);
    expect(recipients.join(" ")).not.toContain("Clerk");
    expect(recipients.join(" ")).not.toContain("Razorpay");
  });

  it("with billing on, says payment records outlive the account and that Razorpay takes the payments", () => {
    const billing = config(billingEnv(razorpayKeys(), "http://127.0.0.1:9"));
    const record = privacyRecords(billing).find((each) => each.id === "billing");
    expect(record?.kept).toMatch(/closed and purged too/);
    expect(record?.what).toMatch(/never reach this server/);
    expect(privacyRecipients(billing).join(" ")).toMatch(/^Razorpay, which takes payments/);
  });
});
