import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { backupDrills, jobRuns } from "@/db/control/schema";
import { ARGON2_OPTIONS } from "@/lib/auth/password";
import { getControlDb } from "@/lib/db/store";
import { securityFacts, type SecurityFact, type SecurityState } from "@/lib/trust/security-facts";
import { readSecurityState } from "@/lib/trust/security-state";
import { billingEnv, razorpayKeys } from "./razorpay";
import { useTempStore, testConfig } from "./store";

/**
 * /security claims only what the configuration and the database back: each test switches one
 * control off (or makes it fail) and asserts the page no longer claims it.
 */
const RECIPIENT = `age1${"q".repeat(58)}`;
const DAY = 24 * 60 * 60 * 1000;
const state = (overrides: Partial<SecurityState> = {}): SecurityState => ({
  cipherVersion: "4.6.1 community",
  jobEveryMinutes: { backup: 24 * 60, "audit-retention": 24 * 60, "backup-drill": 7 * 24 * 60 },
  lastBackup: { startedAt: Date.parse("2026-11-30T02:00:00Z"), outcome: "ok" },
  lastDrill: { startedAt: Date.parse("2026-11-29T03:00:00Z"), outcome: "ok", error: null },
  ...overrides,
});
const config = (env: Record<string, string> = {}) => testConfig("/tmp/enclave-facts-unused", env);
const fact = (facts: SecurityFact[], id: string) => {
  const found = facts.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no fact ${id}`);
  return found;
};
const allText = (page: ReturnType<typeof securityFacts>) => [...page.facts.flatMap((f) => [f.claim, f.evidence]), ...page.doesNot].join("\n");

function clerkEnv(): Record<string, string> {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    ENCLAVE_AUTH_PROVIDER: "clerk",
    CLERK_PUBLISHABLE_KEY: `pk_test_${Buffer.from("example-app.clerk.accounts.dev$").toString("base64")}`,
    CLERK_SECRET_KEY: "sk_test_abcdefghijklmnop", // a made-up key of the right shape; enclave-scan: allow
    CLERK_JWT_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
    CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from("a".repeat(32)).toString("base64")}`,
  };
}

describe("backups", () => {
  it("with no recipients configured, says backups are not configured and claims no schedule, last run or target", () => {
    const page = securityFacts(config(), state());
    expect(fact(page.facts, "backups")).toMatchObject({ kind: "absent", claim: "Backups are not configured on this instance." });
    expect(page.facts.find((f) => f.id === "last-backup")).toBeUndefined();
    expect(allText(page)).not.toMatch(/Backups run|every day, age-encrypted|S3|succeeded/);
  });

  it("with recipients, states the schedule from the job table, the recipients, the retention and the kind of target, not its path", () => {
    const page = securityFacts(config({ ENCLAVE_BACKUP_RECIPIENTS: RECIPIENT, ENCLAVE_BACKUP_RETENTION_DAYS: "14", ENCLAVE_BACKUP_DIR: "/srv/secret-backups" }), state({ jobEveryMinutes: { backup: 6 * 60 } }));
    const backups = fact(page.facts, "backups");
    expect(backups.kind).toBe("control");
    expect(backups.claim).toContain("every 6 hours");
    expect(backups.claim).toContain("1 recipient key");
    expect(backups.claim).toContain("kept 14 days");
    expect(backups.claim).toContain("a directory outside the data directory");
    expect(allText(page)).not.toContain("/srv/secret-backups");
    expect(fact(page.facts, "last-backup")).toMatchObject({ kind: "control", claim: "The last backup, on 2026-11-30, succeeded." });
    expect(backups.claim).not.toContain("backup identity");
  });

  it("says so when this host also holds the backups' age identity", () => {
    const page = securityFacts(config({ ENCLAVE_BACKUP_RECIPIENTS: RECIPIENT, ENCLAVE_BACKUP_IDENTITY_FILE: "/etc/enclave/drill.key" }), state());
    expect(fact(page.facts, "backups").claim).toContain("This host also holds a backup identity");
    expect(allText(page)).not.toContain("/etc/enclave/drill.key");
  });

  it("names an S3 bucket as such without its name, and says when the last backup failed or none has run", () => {
    const env = { ENCLAVE_BACKUP_RECIPIENTS: RECIPIENT, ENCLAVE_BACKUP_S3_BUCKET: "acme-private-bucket" };
    const failed = securityFacts(config(env), state({ lastBackup: { startedAt: Date.parse("2026-11-30T02:00:00Z"), outcome: "failed" } }));
    expect(fact(failed.facts, "backups").claim).toContain("an S3-compatible bucket");
    expect(allText(failed)).not.toContain("acme-private-bucket");
    expect(fact(failed.facts, "last-backup")).toMatchObject({ kind: "alert", claim: "The last backup, on 2026-11-30, failed." });
    expect(fact(securityFacts(config(env), state({ lastBackup: null })).facts, "last-backup")).toMatchObject({ kind: "alert", claim: "No backup has run yet." });
  });
});

describe("restore drills", () => {
  it("says passed only for a drill that passed, failed for one that failed, and nothing tested when none ran", () => {
    expect(fact(securityFacts(config(), state()).facts, "restore-drill")).toMatchObject({ kind: "control", claim: expect.stringContaining("on 2026-11-29, passed") as string });
    const failed = fact(securityFacts(config(), state({ lastDrill: { startedAt: Date.parse("2026-11-28T03:00:00Z"), outcome: "failed", error: "smoke: search" } })).facts, "restore-drill");
    expect(failed).toMatchObject({ kind: "alert", claim: "The last restore drill, on 2026-11-28, failed." });
    expect(failed.claim).not.toContain("passed");
    // The error text may name paths or hosts: operators read it with the CLI, the public page does not show it.
    expect(failed.evidence).not.toContain("smoke: search");
    const none = fact(securityFacts(config(), state({ lastDrill: null })).facts, "restore-drill");
    expect(none.kind).toBe("absent");
    expect(none.claim).not.toMatch(/passed|tested:/);
    expect(fact(securityFacts(config(), state({ lastDrill: { startedAt: Date.now(), outcome: "running", error: null } })).facts, "restore-drill").kind).toBe("alert");
  });
});

describe("sign-in", () => {
  it("in local mode claims Argon2id with the parameters lib/auth/password.ts uses, and optional TOTP", () => {
    const page = securityFacts(config(), state());
    expect(fact(page.facts, "sign-in").claim).toContain("Sign-in is local");
    expect(fact(page.facts, "passwords").claim).toContain(`Argon2id (${ARGON2_OPTIONS.memoryCost / 1024} MiB, ${ARGON2_OPTIONS.timeCost} passes`);
    expect(allText(page)).not.toContain("Clerk");
  });

  it("in Clerk mode says Clerk, names its host, and claims no local password hashing", () => {
    const page = securityFacts(config(clerkEnv()), state());
    expect(fact(page.facts, "sign-in")).toMatchObject({ kind: "control", evidence: "ENCLAVE_AUTH_PROVIDER=clerk" });
    expect(fact(page.facts, "sign-in").claim).toContain("Clerk (example-app.clerk.accounts.dev)");
    expect(fact(page.facts, "passwords")).toMatchObject({ kind: "absent", claim: "This instance keeps no passwords: Clerk holds them." });
    expect(allText(page)).not.toContain("Argon2id");
  });
});

describe("the rest of the configuration", () => {
  it("shows the configured audit retention and closure hold, not the defaults", () => {
    const page = securityFacts(config({ ENCLAVE_AUDIT_RETENTION_DAYS: "500", ENCLAVE_CLOSURE_HOLD_DAYS: "9" }), state());
    expect(fact(page.facts, "audit").claim).toContain("kept 500 days");
    expect(fact(page.facts, "audit").evidence).toContain("ENCLAVE_AUDIT_RETENTION_DAYS=500");
    expect(fact(page.facts, "closure-hold").claim).toContain("for 9 days");
    expect(allText(page)).not.toContain("396");
  });

  it("derives the CSP claim from the policy the server sends: nonce and strict-dynamic", () => {
    const csp = fact(securityFacts(config(), state()).facts, "csp");
    expect(csp.evidence).toMatch(/^script-src 'self' 'nonce-…' 'strict-dynamic'; frame-ancestors 'none'$/);
    expect(csp.claim).toContain("cannot be framed");
  });

  it("claims https only on an https URL, and says plainly when traffic is not encrypted", () => {
    expect(fact(securityFacts(config({ ENCLAVE_PUBLIC_URL: "https://enclave.example.com" }), state()).facts, "transport").kind).toBe("control");
    const plain = fact(securityFacts(config(), state()).facts, "transport");
    expect(plain.kind).toBe("absent");
    expect(plain.claim).toContain("not encrypted in transit");
  });

  it("states the sign-up policy, SMTP and the operator API as configured", () => {
    const open = securityFacts(config(), state());
    expect(fact(open.facts, "sign-up")).toMatchObject({ kind: "absent", evidence: "ENCLAVE_SIGNUP=open" });
    expect(fact(open.facts, "email")).toMatchObject({ kind: "absent", evidence: "ENCLAVE_SMTP_URL is unset" });
    expect(fact(open.facts, "operator-api")).toMatchObject({ kind: "control", evidence: "ENCLAVE_OPERATOR_LOOPBACK_ONLY=true" });
    const other = securityFacts(config({ ENCLAVE_SIGNUP: "closed", ENCLAVE_SMTP_URL: "smtp://127.0.0.1:2525", ENCLAVE_OPERATOR_LOOPBACK_ONLY: "false" }), state());
    expect(fact(other.facts, "sign-up")).toMatchObject({ kind: "control", evidence: "ENCLAVE_SIGNUP=closed" });
    expect(fact(other.facts, "email").kind).toBe("control");
    expect(fact(other.facts, "operator-api")).toMatchObject({ kind: "absent", claim: expect.stringContaining("reachable from other hosts") as string });
  });

  it("claims encryption at rest only when the driver reports a SQLCipher version", () => {
    expect(fact(securityFacts(config(), state()).facts, "encryption-at-rest")).toMatchObject({ kind: "control", evidence: "PRAGMA cipher_version on control.db: SQLCipher 4" });
    const unknown = fact(securityFacts(config(), state({ cipherVersion: null })).facts, "encryption-at-rest");
    expect(unknown.kind).toBe("alert");
    expect(unknown.claim).toContain("cannot be confirmed");
  });

  it("says no third party loads only while the CSP allows none, and always lists what Enclave does not do", () => {
    const page = securityFacts(config(), state());
    expect(page.doesNot[0]).toContain("loads no third-party script");
    const turnstile = { TURNSTILE_SITE_KEY: "1x00000000000000000000AA", TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA" };
    // Billing on: the Billing page's policy lets Razorpay Checkout in (proxy.ts).
    const billing = billingEnv(razorpayKeys(), "http://127.0.0.1:9");
    for (const env of [clerkEnv(), turnstile, billing]) expect(allText(securityFacts(config(env), state()))).not.toContain("no third-party");
    // And says which page lets Razorpay in, read off that page's own policy; nothing of it with billing off.
    expect(fact(securityFacts(config(billing), state()).facts, "billing-csp")).toMatchObject({ kind: "control", evidence: expect.stringContaining("frame-src http://127.0.0.1:9 https://api.razorpay.com") as string });
    expect(securityFacts(config(), state()).facts.map((entry) => entry.id)).not.toContain("billing-csp");
    expect(page.doesNot.some((line) => line.includes("not end-to-end encrypted"))).toBe(true);
  });
});

describe("read from a real control.db", () => {
  useTempStore({ ENCLAVE_BACKUP_RECIPIENTS: RECIPIENT, ENCLAVE_JOB_SCHEDULE: "backup=720" });

  it("takes the cipher version from SQLCipher, the schedule from ENCLAVE_JOB_SCHEDULE, and the newest backup run and drill", async () => {
    const { db } = await getControlDb();
    const now = Date.now();
    await db.insert(jobRuns).values([
      { job: "backup", trigger: "schedule", startedAt: now - 2 * DAY, endedAt: now - 2 * DAY + 1000, outcome: "ok" },
      { job: "backup", trigger: "schedule", startedAt: now - DAY, endedAt: now - DAY + 1000, outcome: "failed", error: "disk full" },
    ]);
    await db.insert(backupDrills).values([
      { startedAt: now - 3 * DAY, endedAt: now - 3 * DAY + 1000, outcome: "ok" },
      { startedAt: now - DAY, endedAt: now - DAY + 1000, outcome: "failed", error: "restore: manifest signature" },
    ]);
    const read = await readSecurityState();
    expect(read.cipherVersion).toMatch(/^4\.\d+\.\d+/);
    expect(read.jobEveryMinutes.backup).toBe(720);
    expect(read.lastBackup).toEqual({ startedAt: now - DAY, outcome: "failed" });
    expect(read.lastDrill).toEqual({ startedAt: now - DAY, outcome: "failed", error: "restore: manifest signature" });
    const { getConfig } = await import("@/lib/config");
    const page = securityFacts(getConfig(), read);
    expect(fact(page.facts, "backups").claim).toContain("every 12 hours");
    expect(fact(page.facts, "last-backup").kind).toBe("alert");
    expect(fact(page.facts, "restore-drill").claim).toContain("failed");
    expect(allText(page)).not.toContain("passed");
  });
});
