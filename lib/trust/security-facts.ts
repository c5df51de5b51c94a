import type { Config } from "../config";
import { ARGON2_OPTIONS } from "../auth/password";
import { SECRET_PREFIXES } from "../crypto/secrets";
import { contentSecurityPolicy, type CspOptions } from "../http/csp";

/**
 * What /security says about this instance, made from its running configuration and the state
 * in control.db — never from a list of features. Each fact is a claim and the evidence for it
 * (the variable, the table row or the code's own output it was read from). A control that is
 * switched off is not claimed: the fact says so instead (`kind: "absent"`), and one that
 * failed says that (`kind: "alert"`). securityFacts is pure, so every rule here is tested by
 * switching its input (test/security-facts.test.ts); security-state.ts reads the inputs.
 */
export type SecurityFact = {
  readonly id: string;
  readonly topic: string;
  /** `control`: a protection in force here; `absent`: one that is not; `alert`: one that failed. */
  readonly kind: "control" | "absent" | "alert";
  readonly claim: string;
  readonly evidence: string;
};

export type JobRunSummary = { startedAt: number; outcome: "running" | "ok" | "failed" | "skipped" };
export type DrillSummary = { startedAt: number; outcome: "running" | "ok" | "failed"; error: string | null };

/** What the facts need from the database and the job table; read by readSecurityState. */
export type SecurityState = {
  /** `PRAGMA cipher_version` of control.db, or null if the driver answered nothing. */
  cipherVersion: string | null;
  /** Minutes between runs, per job name, after ENCLAVE_JOB_SCHEDULE. */
  jobEveryMinutes: Readonly<Record<string, number>>;
  lastBackup: JobRunSummary | null;
  lastDrill: DrillSummary | null;
};

export type SecurityPage = { facts: SecurityFact[]; doesNot: string[] };

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function every(minutes: number | undefined): string {
  if (minutes === undefined) return "on no schedule";
  if (minutes % (24 * 60) === 0) return minutes === 24 * 60 ? "every day" : `every ${minutes / (24 * 60)} days`;
  if (minutes % 60 === 0) return minutes === 60 ? "every hour" : `every ${minutes / 60} hours`;
  return `every ${minutes} minutes`;
}

/**
 * The directives of the CSP this server sends on its pages, parsed from lib/http/csp.ts's own
 * output with the options proxy.ts gives it (Turnstile is added on one page only, /request-access,
 * and Razorpay Checkout on one page only, /w/<id>/billing).
 */
function cspDirectives(config: Config, page: { billing?: CspOptions["billing"] } = {}): Map<string, string[]> {
  const policy = contentSecurityPolicy("NONCE", { dev: false, https: config.secureCookies, clerk: config.clerk, ...page });
  return new Map(
    policy
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter((words): words is [string, ...string[]] => words[0] !== undefined && words[0] !== "")
      .map(([name, ...values]) => [name, values]),
  );
}

function storageFacts(state: SecurityState): SecurityFact[] {
  const cipher = state.cipherVersion;
  return [
    cipher
      ? {
          id: "encryption-at-rest",
          topic: "Encryption at rest",
          kind: "control",
          claim: "Every workspace is its own SQLCipher-encrypted database file, and so is the control database (accounts, sessions, tokens, audit trail); backups are snapshots of those encrypted files, encrypted again.",
          // The major version only: the exact build is a fingerprint a public page need not give.
          evidence: `PRAGMA cipher_version on control.db: SQLCipher ${cipher.split(".")[0]}`,
        }
      : {
          id: "encryption-at-rest",
          topic: "Encryption at rest",
          kind: "alert",
          claim: "The database driver did not report a SQLCipher version, so encryption at rest cannot be confirmed from here.",
          evidence: "PRAGMA cipher_version on control.db answered nothing",
        },
    {
      id: "key-derivation",
      topic: "Keys",
      kind: "control",
      claim: "Each database has its own 256-bit key, derived with HKDF-SHA256 from one master key (the workspace id as salt) and given to SQLCipher as a raw key. The master key is never stored in a database or a backup.",
      evidence: "lib/crypto/keys.ts (labels enclave/control/v1, enclave/workspace/v1); docs/decisions/001-raw-hkdf-keys.md",
    },
    {
      id: "secret-hashing",
      topic: "Secrets",
      kind: "control",
      claim: `Every bearer secret (session ids, team tokens, OAuth codes and tokens, client secrets, the operator token and the like: ${Object.keys(SECRET_PREFIXES).length} kinds, 256 random bits each) is stored only as a SHA-256 hash; those a person handles are shown once.`,
      evidence: `lib/crypto/secrets.ts: prefixes ${Object.values(SECRET_PREFIXES).join(", ")}`,
    },
  ];
}

function signInFacts(config: Config): SecurityFact[] {
  const session = {
    id: "sessions",
    topic: "Sessions",
    kind: "control" as const,
    claim: `A portal session ends after ${config.ENCLAVE_SESSION_IDLE_MINUTES} minutes unused or ${config.ENCLAVE_SESSION_MAX_HOURS} hours after sign-in, and its id is replaced every ${config.ENCLAVE_SESSION_ROTATE_MINUTES} minutes while in use.`,
    evidence: `ENCLAVE_SESSION_IDLE_MINUTES=${config.ENCLAVE_SESSION_IDLE_MINUTES}, ENCLAVE_SESSION_MAX_HOURS=${config.ENCLAVE_SESSION_MAX_HOURS}, ENCLAVE_SESSION_ROTATE_MINUTES=${config.ENCLAVE_SESSION_ROTATE_MINUTES}`,
  };
  if (config.clerk) {
    return [
      {
        id: "sign-in",
        topic: "Sign-in",
        kind: "control",
        claim: `Sign-in is handled by Clerk (${new URL(config.clerk.frontendApi).host}); multi-factor authentication is whatever this instance's Clerk dashboard turns on. Clerk's session tokens are verified here with Clerk's public key, and Enclave still decides every access itself.`,
        evidence: "ENCLAVE_AUTH_PROVIDER=clerk",
      },
      {
        id: "passwords",
        topic: "Passwords",
        kind: "absent",
        claim: "This instance keeps no passwords: Clerk holds them.",
        evidence: "ENCLAVE_AUTH_PROVIDER=clerk",
      },
    ];
  }
  return [
    {
      id: "sign-in",
      topic: "Sign-in",
      kind: "control",
      claim: "Sign-in is local: email and password, with an optional second factor (TOTP authenticator codes and one-time backup codes) each person can turn on.",
      evidence: "ENCLAVE_AUTH_PROVIDER=local; lib/auth/mfa.ts",
    },
    {
      id: "passwords",
      topic: "Passwords",
      kind: "control",
      claim: `Passwords are hashed with Argon2id (${ARGON2_OPTIONS.memoryCost / 1024} MiB, ${ARGON2_OPTIONS.timeCost} passes, ${ARGON2_OPTIONS.parallelism} lane${ARGON2_OPTIONS.parallelism === 1 ? "" : "s"}); an unknown email costs the same work as a wrong password.`,
      evidence: "lib/auth/password.ts ARGON2_OPTIONS",
    },
    session,
  ];
}

function browserFacts(config: Config, csp: Map<string, string[]>): SecurityFact[] {
  const scripts = csp.get("script-src") ?? [];
  const facts: SecurityFact[] = [];
  if (scripts.some((value) => value.startsWith("'nonce-")) && scripts.includes("'strict-dynamic'") && !scripts.includes("'unsafe-inline'")) {
    const framing = csp.get("frame-ancestors")?.join(" ") === "'none'" ? " Pages cannot be framed by other sites." : "";
    facts.push({
      id: "csp",
      topic: "Content Security Policy",
      kind: "control",
      claim: `Scripts run only with a fresh per-response nonce (and what those scripts load, via 'strict-dynamic'); no inline script without it.${framing}`,
      evidence: `script-src ${scripts.join(" ").replace("'nonce-NONCE'", "'nonce-…'")}; frame-ancestors ${csp.get("frame-ancestors")?.join(" ") ?? "(unset)"}`,
    });
  }
  if (config.billing) {
    // The Billing page's own policy, from the same function with the option proxy.ts gives that page alone.
    const billing = cspDirectives(config, { billing: { checkoutOrigin: config.billing.checkoutOrigin } });
    const added = (name: string) => (billing.get(name) ?? []).filter((source) => !(csp.get(name) ?? []).includes(source));
    facts.push({
      id: "billing-csp",
      topic: "Content Security Policy",
      kind: "control",
      claim: "Billing is on: the Billing page, which only a workspace's owner can open, lets Razorpay Checkout's script and payment frame in. No other page's policy names Razorpay.",
      evidence: `CSP of /w/<id>/billing adds script-src ${added("script-src").join(" ")}; frame-src ${added("frame-src").join(" ")}`,
    });
  }
  facts.push(
    config.secureCookies
      ? {
          id: "transport",
          topic: "Transport",
          kind: "control",
          claim: "The public address is https: cookies are Secure with the __Host- prefix and pages upgrade any http request.",
          evidence: `ENCLAVE_PUBLIC_URL=${config.ENCLAVE_PUBLIC_URL.origin}${csp.has("upgrade-insecure-requests") ? "; CSP upgrade-insecure-requests" : ""}`,
        }
      : {
          id: "transport",
          topic: "Transport",
          kind: "absent",
          claim: "This instance is served on a plain-http localhost address: traffic is not encrypted in transit, which is only safe on this machine.",
          evidence: `ENCLAVE_PUBLIC_URL=${config.ENCLAVE_PUBLIC_URL.origin}`,
        },
  );
  return facts;
}

function auditFacts(config: Config, state: SecurityState): SecurityFact[] {
  const retentionEvery = state.jobEveryMinutes["audit-retention"];
  return [
    {
      id: "audit",
      topic: "Audit trail",
      kind: "control",
      claim: `Every privileged act is recorded in a hash-chained audit trail whose head is signed (Ed25519), so edited, removed or truncated rows are detected. Rows are kept ${config.ENCLAVE_AUDIT_RETENTION_DAYS} days, then swept ${every(retentionEvery)}${config.ENCLAVE_JOBS === "off" ? " by the host's timer" : ""}.`,
      evidence: `ENCLAVE_AUDIT_RETENTION_DAYS=${config.ENCLAVE_AUDIT_RETENTION_DAYS}; job audit-retention ${every(retentionEvery)}; ENCLAVE_JOBS=${config.ENCLAVE_JOBS}`,
    },
    {
      id: "closure-hold",
      topic: "Deletion",
      kind: "control",
      claim: `A closed account or deleted workspace can be brought back for ${config.ENCLAVE_CLOSURE_HOLD_DAYS} days; then it is erased (files and rows), keeping only a tombstone of the account.`,
      evidence: `ENCLAVE_CLOSURE_HOLD_DAYS=${config.ENCLAVE_CLOSURE_HOLD_DAYS}`,
    },
  ];
}

function backupFacts(config: Config, state: SecurityState): SecurityFact[] {
  const recipients = config.ENCLAVE_BACKUP_RECIPIENTS.length;
  if (recipients === 0) {
    return [
      {
        id: "backups",
        topic: "Backups",
        kind: "absent",
        claim: "Backups are not configured on this instance.",
        evidence: "ENCLAVE_BACKUP_RECIPIENTS is empty",
      },
    ];
  }
  // Where, but not the path or bucket name: a public page need not map the operator's storage.
  const target = config.ENCLAVE_BACKUP_S3_BUCKET !== undefined ? "an S3-compatible bucket" : "a directory outside the data directory";
  const backupEvery = state.jobEveryMinutes.backup;
  // A drill host holds an age identity; said, because on the serving host it would sit beside the data it protects.
  const identity = config.ENCLAVE_BACKUP_IDENTITY_FILE !== undefined ? " This host also holds a backup identity (ENCLAVE_BACKUP_IDENTITY_FILE), so it can decrypt them." : "";
  const facts: SecurityFact[] = [
    {
      id: "backups",
      topic: "Backups",
      kind: "control",
      claim: `Backups run ${every(backupEvery)}${config.ENCLAVE_JOBS === "off" ? " from the host's timer" : ""}, age-encrypted to ${recipients} recipient key${recipients === 1 ? "" : "s"} (only the public half is configured here), to ${target}, and are kept ${config.ENCLAVE_BACKUP_RETENTION_DAYS} days. Each set's manifest is signed.${identity}`,
      evidence: `ENCLAVE_BACKUP_RECIPIENTS (${recipients}); ${config.ENCLAVE_BACKUP_S3_BUCKET !== undefined ? "ENCLAVE_BACKUP_S3_BUCKET" : "ENCLAVE_BACKUP_DIR"}; ENCLAVE_BACKUP_RETENTION_DAYS=${config.ENCLAVE_BACKUP_RETENTION_DAYS}; job backup ${every(backupEvery)}`,
    },
  ];
  const last = state.lastBackup;
  facts.push(
    !last
      ? { id: "last-backup", topic: "Backups", kind: "alert", claim: "No backup has run yet.", evidence: "job_runs: no backup run" }
      : {
          id: "last-backup",
          topic: "Backups",
          kind: last.outcome === "ok" ? "control" : "alert",
          claim: last.outcome === "ok" ? `The last backup, on ${day(last.startedAt)}, succeeded.` : `The last backup, on ${day(last.startedAt)}, ${last.outcome === "running" ? "is still running" : last.outcome === "skipped" ? "was skipped" : "failed"}.`,
          evidence: `job_runs: backup started ${new Date(last.startedAt).toISOString()}, ${last.outcome}`,
        },
  );
  return facts;
}

function drillFact(state: SecurityState): SecurityFact {
  const drill = state.lastDrill;
  if (!drill) return { id: "restore-drill", topic: "Restore drills", kind: "absent", claim: "No restore drill is on record: restoring a backup has not been tested here.", evidence: "backup_drills: no rows" };
  // Not the drill's error text: it may name paths and hosts; operators read it with `enclave backup drills`.
  const evidence = `backup_drills: started ${new Date(drill.startedAt).toISOString()}, ${drill.outcome}`;
  if (drill.outcome === "ok") return { id: "restore-drill", topic: "Restore drills", kind: "control", claim: `The last restore drill, on ${day(drill.startedAt)}, passed: a backup was restored and served, and every primary path was tried on it.`, evidence };
  if (drill.outcome === "running") return { id: "restore-drill", topic: "Restore drills", kind: "alert", claim: `A restore drill started on ${day(drill.startedAt)} has not finished.`, evidence };
  return { id: "restore-drill", topic: "Restore drills", kind: "alert", claim: `The last restore drill, on ${day(drill.startedAt)}, failed.`, evidence };
}

function accessFacts(config: Config): SecurityFact[] {
  const signup = {
    open: "Anyone who can reach this instance may create an account.",
    invite: "Accounts are created only through an invitation link; others may request access.",
    closed: "No one may create an account here; the operator creates them.",
  }[config.ENCLAVE_SIGNUP];
  return [
    { id: "sign-up", topic: "Who may join", kind: config.ENCLAVE_SIGNUP === "open" ? "absent" : "control", claim: signup, evidence: `ENCLAVE_SIGNUP=${config.ENCLAVE_SIGNUP}` },
    config.ENCLAVE_SMTP_URL !== undefined
      ? { id: "email", topic: "Email", kind: "control", claim: "This instance sends email: invitations, password resets, address verification and security notices (password changed, second factor turned off, a sign-in from a new device).", evidence: "ENCLAVE_SMTP_URL is set" }
      : { id: "email", topic: "Email", kind: "absent", claim: "This instance sends no email: no security notices, and password resets go through the operator.", evidence: "ENCLAVE_SMTP_URL is unset" },
    config.ENCLAVE_OPERATOR_LOOPBACK_ONLY
      ? { id: "operator-api", topic: "Operator API", kind: "control", claim: "The operator API answers only requests made on the server itself, with the operator token; from anywhere else it answers as if it did not exist.", evidence: "ENCLAVE_OPERATOR_LOOPBACK_ONLY=true" }
      : { id: "operator-api", topic: "Operator API", kind: "absent", claim: "The operator API is reachable from other hosts by whoever holds the operator token.", evidence: "ENCLAVE_OPERATOR_LOOPBACK_ONLY=false" },
  ];
}

/** What Enclave does not do, whatever the configuration: stated so nobody assumes it. */
const DOES_NOT: readonly string[] = [
  "It is not end-to-end encrypted: the running server holds the master key and can read every workspace. Whoever controls the server, or holds the master key and the files, can read everything.",
  "It keeps the master key in a file or an environment variable, not in a hardware security module or a cloud key service.",
  "It does not terminate TLS itself: a reverse proxy in front of it does (ops/Caddyfile).",
  "Secret redaction recognises known secret formats before storing; it cannot promise to catch every secret pasted into a workspace.",
  "It does not scan uploaded artifacts for malware.",
  "Exports (Download my data, `enclave workspace export`) are plain ZIP files: once downloaded, protecting them is up to whoever holds them.",
  "It does not protect against a compromised host, operating system or administrator account.",
  "It holds no certification (SOC 2, ISO 27001 or the like); this page is its own account of itself.",
];

export function securityFacts(config: Config, state: SecurityState): SecurityPage {
  const doesNot = [...DOES_NOT];
  // Read off the CSP this server sends: no source but 'self' (and keywords) means no third party can load.
  const csp = cspDirectives(config);
  const thirdParties = [...csp.values()].flat().filter((source) => !source.startsWith("'") && source !== "data:");
  // And only without Turnstile or Razorpay Checkout, which the request-access and Billing pages' own policies let in.
  if (thirdParties.length === 0 && config.TURNSTILE_SITE_KEY === undefined && config.billing === null) doesNot.unshift("It loads no third-party script, style, font or frame: its Content Security Policy allows this server alone. It sends no telemetry.");
  return {
    facts: [...storageFacts(state), ...signInFacts(config), ...browserFacts(config, csp), ...auditFacts(config, state), ...backupFacts(config, state), drillFact(state), ...accessFacts(config)],
    doesNot,
  };
}
