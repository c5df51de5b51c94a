import pino from "pino";

/**
 * Structured JSON logs. Secrets never reach a log line on purpose, and the redact list is the
 * second line of defence for anything that slips into a logged object by accident.
 */
export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
    base: undefined,
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "code",
        "*.code",
        "secret",
        "*.secret",
        "cookie",
        "*.cookie",
        "authorization",
        "*.authorization",
        "headers.cookie",
        "headers.authorization",
      ],
      censor: "[redacted]",
    },
  },
  // The `enclave` command's stdout is its output (ids, tables, tokens for scripts): its log lines go to stderr.
  process.env.ENCLAVE_CLI === "1" ? pino.destination({ dest: 2, sync: true }) : undefined,
);
