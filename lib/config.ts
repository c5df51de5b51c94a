import { createPublicKey } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { loadPlansFile, type Plan } from "./billing/plans";

/**
 * The whole environment, validated once. Every variable the server reads is listed here,
 * with its default, so README's configuration table and this schema say the same thing.
 */
const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"]);

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A comma-separated list of web origins (`https://inspector.example.com`), normalised as URL.origin. */
const originList = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const origins: string[] = [];
    for (const entry of value.split(",").map((part) => part.trim()).filter(Boolean)) {
      const url = URL.canParse(entry) ? new URL(entry) : null;
      if (!url || !["http:", "https:"].includes(url.protocol) || url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
        ctx.addIssue({ code: "custom", message: `"${entry}" is not an origin such as https://inspector.example.com` });
        return z.NEVER;
      }
      origins.push(url.origin);
    }
    return origins;
  });

const envSchema = z.object({
  ENCLAVE_DATA_DIR: z.string().min(1).default("./data"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  ENCLAVE_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .default("http://localhost:3000")
    .transform((value) => new URL(value))
    .refine((url) => url.protocol === "https:" || loopbackHosts.has(url.hostname), {
      message: "must be https unless the host is localhost, 127.0.0.1 or [::1]",
    })
    .refine((url) => url.pathname === "/" && !url.search && !url.hash, {
      message: "must be an origin only (no path, query or fragment)",
    }),
  ENCLAVE_MASTER_KEY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return undefined;
      const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
      if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(value) && key.toString("base64") !== value)) {
        ctx.addIssue({ code: "custom", message: "must be 64 hex characters or the base64 of 32 bytes" });
        return z.NEVER;
      }
      return key;
    }),
  ENCLAVE_WORKSPACE_CACHE_SIZE: positiveInt(256),
  ENCLAVE_SESSION_IDLE_MINUTES: positiveInt(60 * 24),
  ENCLAVE_SESSION_MAX_HOURS: positiveInt(24 * 14),
  ENCLAVE_SESSION_ROTATE_MINUTES: positiveInt(15),
  ENCLAVE_BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  ENCLAVE_ARTIFACT_MAX_BYTES: positiveInt(4 * 1024 * 1024),
  ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: positiveInt(1200),
  ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: positiveInt(120),
  ENCLAVE_SSE_HEARTBEAT_SECONDS: positiveInt(15),
  /** How long an OAuth access token lives. At least 5 s (the e2e refreshes past it), at most a day. */
  ENCLAVE_OAUTH_ACCESS_TOKEN_SECONDS: z.coerce.number().int().min(5).max(24 * 60 * 60).default(60 * 60),
  ENCLAVE_MAX_WORKSPACES_PER_USER: positiveInt(50),
  /** Browser origins besides ENCLAVE_PUBLIC_URL that may call /mcp (an MCP Inspector, a web client). */
  ENCLAVE_MCP_ALLOWED_ORIGINS: originList,
  ENCLAVE_TRUST_PROXY: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /** `clerk` hands sign-in to Clerk (the four CLERK_* variables then required); Enclave still decides every access. */
  ENCLAVE_AUTH_PROVIDER: z.enum(["local", "clerk"]).default("local"),
  /** `pk_test_…`/`pk_live_…`: the base64 inside names the Clerk Frontend API host CSP lets in. */
  CLERK_PUBLISHABLE_KEY: z.string().regex(/^pk_(test|live)_[A-Za-z0-9+/=_-]+$/, "must be a Clerk publishable key (pk_test_… or pk_live_…)").optional(),
  CLERK_SECRET_KEY: z.string().regex(/^sk_(test|live)_[A-Za-z0-9]+$/, "must be a Clerk secret key (sk_test_… or sk_live_…)").optional(),
  /** The PEM public key from Clerk's dashboard (API keys → JWT public key): session tokens verify with no network call. */
  CLERK_JWT_KEY: z.string().optional(),
  /** `whsec_…` from the Clerk webhook endpoint: svix verifies every delivery with it. */
  CLERK_WEBHOOK_SIGNING_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be a Svix signing secret (whsec_…)").optional(),
  /** Clerk's Backend API (sign-out ends the Clerk session there); tests point it at a local fake. */
  CLERK_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.clerk.com"),
  /** Who may create an account: `open`, `invite` (an invitation link) or `closed`; default open on a loopback URL, invite otherwise. */
  ENCLAVE_SIGNUP: z.enum(["open", "invite", "closed"]).optional(),
  /** Cloudflare Turnstile on the request-access form: both keys or neither. */
  TURNSTILE_SITE_KEY: z.string().min(1).optional(),
  TURNSTILE_SECRET_KEY: z.string().min(1).optional(),
  /** Turnstile's siteverify endpoint; tests point it at a local fake. */
  ENCLAVE_TURNSTILE_VERIFY_URL: z.url({ protocol: /^https?$/ }).default("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
  /** An SMTP URL (`smtp://host:587`, credentials in its user info, or `smtps://…`): invitations, password resets, verification and security notices go by mail. */
  ENCLAVE_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The From address of that mail. */
  ENCLAVE_MAIL_FROM: z.string().min(3).default("Enclave <enclave@localhost>"),
  /** RFC 9116 Contact for /.well-known/security.txt: a mailto: or https: URL. */
  ENCLAVE_SECURITY_CONTACT: z.url({ protocol: /^(mailto|https)$/ }).optional(),
  /** RFC 9116 Policy: where this instance's disclosure policy lives (default: its own /security page). */
  ENCLAVE_SECURITY_POLICY_URL: z.url({ protocol: /^https?$/ }).optional(),
  // Hosts a client metadata document may be fetched from although private/loopback, and over
  // plain http (lib/oauth/client-metadata-document.ts): for tests and local setups only.
  ENCLAVE_CIMD_ALLOWED_HOSTS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((host) => host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1"))
        .filter(Boolean),
    ),
  /** `off` leaves periodic jobs to systemd timers running `enclave jobs run <name>` (ops/). */
  ENCLAVE_JOBS: z.enum(["on", "off"]).default("on"),
  /** How often each job runs, as `name=minutes` pairs overriding the defaults in lib/jobs/jobs.ts. */
  ENCLAVE_JOB_SCHEDULE: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const schedule: Record<string, number> = {};
      for (const entry of value.split(",").map((part) => part.trim()).filter(Boolean)) {
        const match = /^([a-z][a-z0-9-]*)=([1-9][0-9]{0,6})$/.exec(entry);
        if (!match?.[1] || !match[2]) {
          ctx.addIssue({ code: "custom", message: `"${entry}" is not name=minutes, such as audit-retention=1440` });
          return z.NEVER;
        }
        schedule[match[1]] = Number(match[2]);
      }
      return schedule;
    }),
  /** Days a closing account (and what goes with it) or a deleted workspace is kept before the purge. */
  ENCLAVE_CLOSURE_HOLD_DAYS: positiveInt(30),
  /** Audit rows older than this are swept; at least 365, since auditors ask for a year. */
  ENCLAVE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(365).default(396),
  /** Where backup sets are written when no S3 bucket is set; default `<data dir>-backups`, never inside the data dir. */
  ENCLAVE_BACKUP_DIR: z.string().min(1).optional(),
  /** age X25519 recipients (`age1…`, comma-separated) every backup is encrypted to; their identities stay off this machine. */
  ENCLAVE_BACKUP_RECIPIENTS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const recipients = value.split(",").map((part) => part.trim()).filter(Boolean);
      for (const recipient of recipients) {
        // Bech32 with the age1 prefix: X25519 recipients are 62 characters. The library checks the checksum when it encrypts.
        if (!/^age1[02-9ac-hj-np-z]{58}$/.test(recipient)) {
          ctx.addIssue({ code: "custom", message: `"${recipient.slice(0, 70)}" is not an age X25519 recipient (age1… from age-keygen)` });
          return z.NEVER;
        }
      }
      return recipients;
    }),
  /** Backup sets older than this many days are pruned by the backup job. */
  ENCLAVE_BACKUP_RETENTION_DAYS: positiveInt(30),
  /** An S3-compatible bucket: when set, backups go there instead of ENCLAVE_BACKUP_DIR. */
  ENCLAVE_BACKUP_S3_BUCKET: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/).optional(),
  /** Endpoint of a non-AWS S3-compatible service (path-style requests); unset means AWS. */
  ENCLAVE_BACKUP_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  ENCLAVE_BACKUP_S3_REGION: z.string().min(1).default("us-east-1"),
  /** Key prefix inside the bucket, e.g. `enclave/`. */
  ENCLAVE_BACKUP_S3_PREFIX: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, "must be empty or path segments ending in /").default("enclave/"),
  /** Credentials for the bucket; unset, the AWS SDK's default chain (AWS_ACCESS_KEY_ID, instance roles) applies. */
  ENCLAVE_BACKUP_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /**
   * The age identity file the restore drill decrypts with. Only where drills run: on the server
   * it would put the backups' key beside the data they protect (see ops/RUNBOOK.md).
   */
  ENCLAVE_BACKUP_IDENTITY_FILE: z.string().min(1).optional(),
  /** The operator API answers only loopback clients unless this is `false`. */
  ENCLAVE_OPERATOR_LOOPBACK_ONLY: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  /** Below this much free space on the data disk, /api/health says degraded (low_disk_space) before a write fails. */
  ENCLAVE_LOW_DISK_MB: positiveInt(256),
  /** Razorpay billing: the three together (or none: billing off, every workspace free and unlimited). */
  RAZORPAY_KEY_ID: z.string().regex(/^rzp_(test|live)_[A-Za-z0-9]+$/, "must be a Razorpay key id (rzp_test_… or rzp_live_…)").optional(),
  RAZORPAY_KEY_SECRET: z.string().min(8).optional(),
  /** The secret set on the Razorpay webhook: X-Razorpay-Signature is the HMAC-SHA256 of each body with it. */
  RAZORPAY_WEBHOOK_SECRET: z.string().min(8).optional(),
  /** The plans and their limits (JSON, ops/plans.example.json): required with the Razorpay keys, refused without them. */
  ENCLAVE_PLANS_FILE: z.string().min(1).optional(),
  /** Razorpay's API and Checkout script; tests point them at a local fake. */
  RAZORPAY_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.razorpay.com"),
  RAZORPAY_CHECKOUT_URL: z.url({ protocol: /^https?$/ }).default("https://checkout.razorpay.com/v1/checkout.js"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Omit<z.infer<typeof envSchema>, "ENCLAVE_DATA_DIR" | "ENCLAVE_BACKUP_DIR" | "ENCLAVE_SIGNUP"> & {
  dataDir: string;
  ENCLAVE_SIGNUP: "open" | "invite" | "closed";
  /** Clerk mode's keys, all checked at start; null in local mode. */
  clerk: ClerkConfig | null;
  /** Razorpay keys and the plans, all checked at start; null when billing is off. */
  billing: BillingConfig | null;
  /** Absolute; outside dataDir. */
  backupDir: string;
  /** Plain-http loopback origins cannot carry `__Host-`/Secure cookies in every browser. */
  secureCookies: boolean;
};

export type ClerkConfig = {
  publishableKey: string;
  secretKey: string;
  /** PEM, parsed once at start to prove it is an RSA public key. */
  jwtKey: string;
  webhookSigningSecret: string;
  /** `https://<frontend api host>`, decoded from the publishable key. */
  frontendApi: string;
  apiUrl: string;
};

export type BillingConfig = {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  apiUrl: string;
  /** The Checkout script's URL and its origin (what the billing page's CSP names). */
  checkoutScript: string;
  checkoutOrigin: string;
  plans: Plan[];
};

const RAZORPAY_VARIABLES = ["RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"] as const;

function billingConfig(env: z.infer<typeof envSchema>): BillingConfig | null {
  const missing = RAZORPAY_VARIABLES.filter((name) => !env[name]);
  if (missing.length === RAZORPAY_VARIABLES.length) {
    if (env.ENCLAVE_PLANS_FILE) throw new ConfigError("invalid environment: ENCLAVE_PLANS_FILE is set but billing is off: set RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET, or unset it");
    return null;
  }
  if (missing.length > 0) throw new ConfigError(`invalid environment: the Razorpay keys go together: ${missing.join(", ")} missing`);
  if (!env.ENCLAVE_PLANS_FILE) throw new ConfigError("invalid environment: billing needs ENCLAVE_PLANS_FILE (the plans and their limits; see ops/plans.example.json)");
  let plans: Plan[];
  try {
    plans = loadPlansFile(path.resolve(env.ENCLAVE_PLANS_FILE));
  } catch (error) {
    throw new ConfigError(`invalid environment: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    keyId: env.RAZORPAY_KEY_ID!,
    keySecret: env.RAZORPAY_KEY_SECRET!,
    webhookSecret: env.RAZORPAY_WEBHOOK_SECRET!,
    apiUrl: env.RAZORPAY_API_URL.replace(/\/$/, ""),
    checkoutScript: env.RAZORPAY_CHECKOUT_URL,
    checkoutOrigin: new URL(env.RAZORPAY_CHECKOUT_URL).origin,
    plans,
  };
}

const CLERK_VARIABLES = ["CLERK_PUBLISHABLE_KEY", "CLERK_SECRET_KEY", "CLERK_JWT_KEY", "CLERK_WEBHOOK_SIGNING_SECRET"] as const;

/** The Frontend API host a publishable key carries: base64 of `<host>$`. */
export function clerkFrontendApiHost(publishableKey: string): string | null {
  const encoded = publishableKey.replace(/^pk_(test|live)_/, "");
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  if (!decoded.endsWith("$")) return null;
  const host = decoded.slice(0, -1);
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host) ? host.toLowerCase() : null;
}

function clerkConfig(env: z.infer<typeof envSchema>): ClerkConfig | null {
  if (env.ENCLAVE_AUTH_PROVIDER !== "clerk") return null;
  const missing = CLERK_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigError(`invalid environment: ENCLAVE_AUTH_PROVIDER=clerk needs ${missing.join(", ")}`);
  const host = clerkFrontendApiHost(env.CLERK_PUBLISHABLE_KEY!);
  if (!host) throw new ConfigError("invalid environment: CLERK_PUBLISHABLE_KEY: its payload does not name a Clerk Frontend API host");
  let jwtKey: string;
  try {
    // Clerk's dashboard shows the key as PEM; a copy pasted into an env file often has literal \n.
    const pem = env.CLERK_JWT_KEY!.replace(/\\n/g, "\n");
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== "rsa") throw new Error("not RSA");
    jwtKey = pem;
  } catch {
    throw new ConfigError("invalid environment: CLERK_JWT_KEY: must be Clerk's PEM RSA public key (-----BEGIN PUBLIC KEY-----)");
  }
  return {
    publishableKey: env.CLERK_PUBLISHABLE_KEY!,
    secretKey: env.CLERK_SECRET_KEY!,
    jwtKey,
    webhookSigningSecret: env.CLERK_WEBHOOK_SIGNING_SECRET!,
    frontendApi: `https://${host}`,
    apiUrl: env.CLERK_API_URL.replace(/\/$/, ""),
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${lines.join("; ")}`);
  }
  const { ENCLAVE_DATA_DIR, ENCLAVE_BACKUP_DIR, ENCLAVE_SIGNUP, ...rest } = result.data;
  const dataDir = path.resolve(ENCLAVE_DATA_DIR);
  const backupDir = path.resolve(ENCLAVE_BACKUP_DIR ?? `${dataDir}-backups`);
  // A backup inside the data dir goes wherever the data goes: the same disk failure, the same copy, the same thief.
  const inside = path.relative(dataDir, backupDir);
  // `..` as a whole first segment is outside; a folder merely named `..backups` is inside.
  if (inside !== ".." && !inside.startsWith(`..${path.sep}`) && !path.isAbsolute(inside)) {
    throw new ConfigError(`invalid environment: ENCLAVE_BACKUP_DIR: ${backupDir} is inside the data dir ${dataDir}; keep backups beside it, not in it`);
  }
  if ((rest.ENCLAVE_BACKUP_S3_ACCESS_KEY_ID === undefined) !== (rest.ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError("invalid environment: ENCLAVE_BACKUP_S3_ACCESS_KEY_ID and ENCLAVE_BACKUP_S3_SECRET_ACCESS_KEY go together: set both or neither");
  }
  if ((rest.TURNSTILE_SITE_KEY === undefined) !== (rest.TURNSTILE_SECRET_KEY === undefined)) {
    throw new ConfigError("invalid environment: TURNSTILE_SITE_KEY and TURNSTILE_SECRET_KEY go together: set both or neither");
  }
  const clerk = clerkConfig(result.data);
  const billing = billingConfig(result.data);
  return {
    ...rest,
    dataDir,
    backupDir,
    ENCLAVE_SIGNUP: ENCLAVE_SIGNUP ?? (loopbackHosts.has(rest.ENCLAVE_PUBLIC_URL.hostname) ? "open" : "invite"),
    clerk,
    billing,
    secureCookies: rest.ENCLAVE_PUBLIC_URL.protocol === "https:",
  };
}

const globalForConfig = globalThis as unknown as { enclaveConfig?: Config };

/** The process-wide config, parsed on first use (never at import, so builds need no env). */
export function getConfig(): Config {
  globalForConfig.enclaveConfig ??= parseConfig(process.env);
  return globalForConfig.enclaveConfig;
}

/** Tests point the process at a fresh data dir; nothing else should call this. */
export function setConfigForTests(config: Config | undefined): void {
  globalForConfig.enclaveConfig = config;
}
