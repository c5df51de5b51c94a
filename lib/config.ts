import path from "node:path";
import { z } from "zod";

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
  ENCLAVE_AUTH_PROVIDER: z.enum(["local"]).default("local"),
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
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Omit<z.infer<typeof envSchema>, "ENCLAVE_DATA_DIR"> & {
  dataDir: string;
  /** Plain-http loopback origins cannot carry `__Host-`/Secure cookies in every browser. */
  secureCookies: boolean;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${lines.join("; ")}`);
  }
  const { ENCLAVE_DATA_DIR, ...rest } = result.data;
  return {
    ...rest,
    dataDir: path.resolve(ENCLAVE_DATA_DIR),
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
