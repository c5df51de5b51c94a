import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { nearMisses, secretSamples, strictSamples } from "@/test/secrets";
import {
  compilePolicy,
  customPatternSchema,
  defaultPolicy,
  emptyReport,
  mergeReports,
  redactionLevels,
  redactionSettingsSchema,
  redactJson,
  redactText,
  type RedactionPolicy,
} from "./redaction";
import { builtInDetectors } from "./secret-patterns";

const off = compilePolicy({ level: "off", customPatterns: [{ name: "acme_id", pattern: "ACME-[0-9]{8}" }] });
const standard = defaultPolicy;
const strict = compilePolicy({ level: "strict", customPatterns: [] });
const withCustom = compilePolicy({
  level: "standard",
  customPatterns: [
    { name: "acme_id", pattern: "ACME-[0-9]{8}" },
    { name: "runaway", pattern: "(a+)+$" },
    { name: "ghp_copy", pattern: "ghp_[A-Za-z0-9]+" },
  ],
});
const leveled: [string, RedactionPolicy][] = [
  ["standard", standard],
  ["strict", strict],
];

/** Messages from a failed settings parse, to check that each rejection says what is wrong. */
function settingsErrors(customPatterns: { name: string; pattern: string }[]): string[] {
  const result = redactionSettingsSchema.safeParse({ level: "standard", customPatterns });
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
}

describe("every built-in kind is caught", () => {
  const cases = secretSamples.flatMap((sample, index) => leveled.map(([level, policy]) => ({ ...sample, index, level, policy })));

  it.each(cases)("$kind sample $index at $level", ({ kind, secret, text, policy }) => {
    const result = redactText(text, policy);
    expect(result.text).not.toContain(secret);
    expect(result.text).toContain(`[REDACTED:${kind}]`);
    expect(result.report).toEqual({ count: 1, kinds: [kind] });
  });

  // JSON escaped into a string (a log line quoting a request body): quotes arrive as \".
  it.each(secretSamples.map((sample, index) => ({ ...sample, index })))("$kind sample $index escaped inside a JSON string", ({ kind, secret, text }) => {
    const logLine = JSON.stringify({ level: "info", body: text });
    const result = redactText(logLine, standard);
    expect(result.report.kinds).toEqual([kind]);
    // Still a valid document (the escaping around the secret intact), with the secret gone.
    const inner = (JSON.parse(result.text) as { body: string }).body;
    expect(inner).not.toContain(secret);
    expect(inner).toContain(`[REDACTED:${kind}]`);
  });

  it("has a sample for every built-in kind, and no sample of a kind that does not exist", () => {
    const kinds = new Set(builtInDetectors.map((detector) => detector.kind));
    expect(new Set(secretSamples.map((sample) => sample.kind))).toEqual(kinds);
  });

  it("redacts several secrets in one text and reports each kind once, sorted", () => {
    const text = secretSamples.map((sample) => sample.text).join("\n");
    const result = redactText(text, standard);
    for (const sample of secretSamples) expect(result.text).not.toContain(sample.secret);
    expect(result.report.count).toBe(secretSamples.length);
    expect(result.report.kinds).toEqual([...new Set(secretSamples.map((sample) => sample.kind))].sort());
  });
});

describe("level off", () => {
  it.each(secretSamples)("keeps $kind untouched, custom patterns included", ({ text }) => {
    expect(redactText(text, off)).toEqual({ text, report: emptyReport });
    expect(redactText("ticket ACME-12345678", off).text).toBe("ticket ACME-12345678");
  });

  it("lists the three levels", () => {
    expect(redactionLevels).toEqual(["off", "standard", "strict"]);
  });
});

describe("near misses are kept", () => {
  it("also when escaped inside a JSON string", () => {
    for (const text of nearMisses) {
      const escaped = JSON.stringify(text).slice(1, -1);
      expect(redactText(escaped, standard).text).toBe(escaped);
    }
  });

  it.each(nearMisses)("keeps %j at standard", (text) => {
    expect(redactText(text, standard)).toEqual({ text, report: emptyReport });
  });

  it("keeps hex (git SHAs) and UUIDs even at strict: hex cannot reach 4 bits per character", () => {
    const text = `commit ${randomBytes(20).toString("hex")} for ${randomUUID()} and sha256 ${randomBytes(32).toString("hex")}`;
    expect(redactText(text, strict).text).toBe(text);
  });

  it("applies the generic rule as documented: 8 distinct characters pass, repeated-letter words do not", () => {
    expect(redactText("password = hunter2x", standard).text).toBe("password = [REDACTED:generic_secret]");
    expect(redactText("password: changeme", standard).text).toBe("password: changeme");
    expect(redactText("password: Summer2024", standard).text).toBe("password: [REDACTED:generic_secret]");
    expect(redactText("my password is hunter2x", standard).text).toBe("my password is hunter2x");
  });

  it("treats only the authority's userinfo as a password, not a path", () => {
    expect(redactText("see https://example.com/a:b@c", standard).report.count).toBe(0);
    expect(redactText("see https://bob:s3cr3t-pw@example.com/a", standard).text).toBe( // enclave-scan: allow
      "see https://bob:[REDACTED:connection_string_password]@example.com/a",
    );
  });

  it.each([
    ["mongodb+srv://app.user-1:a/b+c=d@cluster0.x.mongodb.net/db?retryWrites=true", "mongodb+srv://app.user-1:@cluster0.x.mongodb.net/db?retryWrites=true"], // enclave-scan: allow
    ["postgres://svc:p%40ss@db:5432/app", "postgres://svc:@db:5432/app"], // enclave-scan: allow
    ["amqp://u:p@ss#x?y@mq/jobs@archive", "amqp://u:@mq/jobs@archive"], // enclave-scan: allow
    ['{"url":"postgres://u:pw@h/db","owner":"me@example.com"}', '{"url":"postgres://u:@h/db","owner":"me@example.com"}'], // enclave-scan: allow
    ["'redis://:pw/with/slashes@cache:6379'", "'redis://:@cache:6379'"], // enclave-scan: allow
  ])("ends a URL password at the last @ before the path: %s", (text, shape) => {
    expect(redactText(text, standard).text.replace("[REDACTED:connection_string_password]", "")).toBe(shape);
  });

  it("reads host:port/path@x as a port and a path", () => {
    for (const text of ["https://registry:5000/v2/@acme/api", "http://localhost:3000/users/@bob", "http://h:8080?next=a@b"]) {
      expect(redactText(text, standard).text).toBe(text);
    }
  });
});

describe("strict", () => {
  it.each(strictSamples)("redacts high-entropy runs only at strict ($secret.length chars)", ({ secret, text }) => {
    expect(redactText(text, standard).text).toBe(text);
    const result = redactText(text, strict);
    expect(result.text).toBe(text.replace(secret, "[REDACTED:high_entropy]"));
    expect(result.report).toEqual({ count: 1, kinds: ["high_entropy"] });
  });

  it("needs letters and digits and 32 characters", () => {
    const lettersOnly = "QWERTYUIOPASDFGHJKLZXCVBNMqwertyuiopasdfghjklzxcvbnm";
    const short = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1";
    expect(redactText(`${lettersOnly} ${short}`, strict).report.count).toBe(0);
  });
});

describe("overlaps: the more specific kind wins", () => {
  const token = "ghp_" + "a1B2c3D4e5".repeat(3) + "f6G7h8";

  it("reports a GitHub token in a token assignment as github_token", () => {
    expect(redactText(`token = ${token}`, standard)).toEqual({
      text: "token = [REDACTED:github_token]",
      report: { count: 1, kinds: ["github_token"] },
    });
  });

  it("reports sk-ant- keys as anthropic_key, never openai_key", () => {
    const result = redactText(`key sk-ant-api03-${"Ab1".repeat(10)}`, standard);
    expect(result.report.kinds).toEqual(["anthropic_key"]);
  });

  it("keeps user, host and path of a connection string", () => {
    expect(redactText("postgres://app:Zq8!xw2Lp@db:5432/x", standard).text).toBe( // enclave-scan: allow
      "postgres://app:[REDACTED:connection_string_password]@db:5432/x",
    );
  });

  it("replaces a whole PEM block, and a block without END up to the end of its base64", () => {
    const key = secretSamples.find((sample) => sample.kind === "private_key");
    expect(key).toBeDefined();
    expect(redactText(key?.text ?? "", standard).text).toBe("Here is the deploy key:\n\n[REDACTED:private_key]\n\nDo not share it.");
    const truncated = `-----BEGIN RSA PRIVATE KEY-----\nMIIEow${"AbC9".repeat(40)}\nQ== and then the log line ended`;
    expect(redactText(truncated, standard).text).toBe("[REDACTED:private_key] and then the log line ended");
  });

  it.each(["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "])("recognises the %sPRIVATE KEY label", (label) => {
    const suffix = label === "PGP " ? " BLOCK" : "";
    const block = `-----BEGIN ${label}PRIVATE KEY${suffix}-----\n${randomBytes(96).toString("base64")}\n-----END ${label}PRIVATE KEY${suffix}-----`;
    expect(redactText(`key:\n${block}\nend`, standard).text).toBe("key:\n[REDACTED:private_key]\nend");
  });

  it("lets built-in kinds beat custom patterns, and custom patterns beat generic assignments", () => {
    expect(redactText(`token = ${token}`, withCustom).report.kinds).toEqual(["github_token"]);
    expect(redactText("password = ACME-12345678", withCustom).text).toBe("password = [REDACTED:custom:acme_id]");
  });
});

describe("redacting twice changes nothing", () => {
  const cases = [
    ...secretSamples.flatMap((sample) => leveled.map(([level, policy]) => ({ ...sample, level, policy }))),
    ...strictSamples.map((sample) => ({ ...sample, level: "strict", policy: strict })),
  ];

  it.each(cases)("$kind at $level", ({ text, policy }) => {
    const once = redactText(text, policy);
    expect(once.report.count).toBeGreaterThan(0);
    expect(redactText(once.text, policy)).toEqual({ text: once.text, report: emptyReport });
  });

  it("keeps markers written by hand or by a custom pattern as they are", () => {
    const text = "password = [REDACTED:generic_secret] and ticket [REDACTED:custom:acme_id]";
    expect(redactText(text, withCustom)).toEqual({ text, report: emptyReport });
  });
});

describe("redactJson", () => {
  const github = secretSamples.find((sample) => sample.kind === "github_token")?.secret ?? "";
  const jwt = secretSamples.find((sample) => sample.kind === "jwt")?.secret ?? "";

  it("walks nested objects and arrays, leaves keys and non-strings, and returns a new value", () => {
    const input = {
      title: "deploy notes",
      count: 3,
      ok: true,
      none: null,
      [github]: "a key is structure, not content",
      steps: [`push with ${github}`, { headers: { Authorization: `Bearer ${jwt}` } }, 42],
    };
    const snapshot = structuredClone(input);
    const { value, report } = redactJson(input, standard);
    expect(value).toEqual({
      title: "deploy notes",
      count: 3,
      ok: true,
      none: null,
      [github]: "a key is structure, not content",
      steps: ["push with [REDACTED:github_token]", { headers: { Authorization: "Bearer [REDACTED:jwt]" } }, 42],
    });
    expect(report).toEqual({ count: 2, kinds: ["github_token", "jwt"] });
    expect(input).toEqual(snapshot);
    expect(value).not.toBe(input);
    expect(value.steps).not.toBe(input.steps);
  });

  it("judges a value under a secret-named key by the generic rule", () => {
    const { value, report } = redactJson(
      { db: { password: "hunter2x!", user: "hunter2x!" }, apiKey: "Zx9#kLm2Qr", token_type: "Bearer", note: { password: "changeme" } },
      standard,
    );
    expect(value).toEqual({
      db: { password: "[REDACTED:generic_secret]", user: "hunter2x!" },
      apiKey: "[REDACTED:generic_secret]",
      token_type: "Bearer",
      note: { password: "changeme" },
    });
    expect(report).toEqual({ count: 2, kinds: ["generic_secret"] });
    expect(redactJson(value, standard).report).toEqual(emptyReport);
  });

  it("judges a service account's private_key_id under its own key", () => {
    const id = randomBytes(20).toString("hex");
    expect(redactJson({ type: "service_account", private_key_id: id, client_id: "1234" }, standard).value).toEqual({
      type: "service_account",
      private_key_id: "[REDACTED:generic_secret]",
      client_id: "1234",
    });
  });

  it("changes nothing at off", () => {
    const input = { password: "hunter2x!", list: [github] };
    const { value, report } = redactJson(input, off);
    expect(value).toEqual(input);
    expect(report.count).toBe(0);
  });
});

describe("custom patterns", () => {
  it("redact as custom:<name>, with UTF-16 positions right around astral characters", () => {
    expect(redactText("😀 ticket ACME-12345678 😀", withCustom)).toEqual({
      text: "😀 ticket [REDACTED:custom:acme_id] 😀",
      report: { count: 1, kinds: ["custom:acme_id"] },
    });
  });

  it("run (a+)+$ in linear time under re2js", () => {
    const text = "a".repeat(100_000) + "!";
    expect(redactText(text, withCustom).text).toBe(text);
    expect(redactText("xx aaaa", withCustom).text).toBe("xx [REDACTED:custom:runaway]");
  }, 5_000);

  it("accept a valid list and default it to empty", () => {
    expect(redactionSettingsSchema.parse({ level: "strict" })).toEqual({ level: "strict", customPatterns: [] });
    expect(customPatternSchema.safeParse({ name: "acme_id", pattern: "(?i)acme-[0-9]{8}" }).success).toBe(true);
  });

  it.each([
    ["(", /not a valid RE2 regular expression: missing closing \)/],
    ["(?<=x)y", /Lookahead and lookbehind/],
    ["x(?=y)", /Lookahead and lookbehind/],
    ["(a)\\1", /not a valid RE2 regular expression/],
    ["a".repeat(301), /300 characters/],
    ["", /empty/],
    ["x*", /matches the empty string/],
  ])("reject the pattern %j with a message", (pattern, message) => {
    const errors = settingsErrors([{ name: "bad", pattern }]);
    expect(errors.some((error) => message.test(error))).toBe(true);
  });

  it("reject bad names, duplicate names and more than 20 patterns", () => {
    expect(settingsErrors([{ name: "Bad-Name", pattern: "x" }])).toEqual(["Use 1 to 40 lowercase letters, digits or underscores."]);
    expect(settingsErrors([{ name: "a", pattern: "x" }, { name: "a", pattern: "y" }])).toEqual(['The name "a" is used twice.']);
    const many = Array.from({ length: 21 }, (_, index) => ({ name: `p${index}`, pattern: "x" }));
    expect(settingsErrors(many)).toEqual(["At most 20 custom patterns."]);
    expect(() => compilePolicy({ level: "standard", customPatterns: [{ name: "bad", pattern: "(" }] })).toThrow(/RE2/);
  });
});

describe("reports", () => {
  it("merge by summing counts and uniting kinds, sorted", () => {
    expect(mergeReports({ count: 2, kinds: ["jwt"] }, emptyReport, { count: 1, kinds: ["github_token", "jwt"] })).toEqual({
      count: 3,
      kinds: ["github_token", "jwt"],
    });
    expect(mergeReports()).toEqual({ count: 0, kinds: [] });
    expect(Object.isFrozen(emptyReport) && Object.isFrozen(emptyReport.kinds)).toBe(true);
  });
});

describe("hostile 1 MiB inputs finish (the 5 s timeout is the bound)", () => {
  const MiB = 1 << 20;
  const cases: [string, string, string[]][] = [
    ["one long run", "a".repeat(MiB), []],
    ["BEGIN without END", "-----BEGIN PRIVATE KEY-----\n" + "A".repeat(MiB), ["private_key"]],
    ["a million BEGIN lines", "-----BEGIN PRIVATE KEY-----".repeat(MiB / 27), ["private_key"]],
    ["BEGIN lines then an END far away", "-----BEGIN EC PRIVATE KEY-----\n".repeat(30_000) + "-----END EC PRIVATE KEY-----", ["private_key"]],
    ["scheme then colons", "postgres://" + ":".repeat(MiB), []],
    ["scheme then user", "postgres://" + "u".repeat(MiB), []],
    ["schemes", "ab://".repeat(MiB / 5), []],
    ["eyJ run", "eyJ".repeat(MiB / 3), []],
    ["eyJ dotted", "eyJ.".repeat(MiB / 4), []],
    ["JWT-ish chain", ("eyJ" + "a".repeat(30) + ".").repeat(MiB / 34), ["jwt"]],
    ["assignment of a long run", "password: " + "x".repeat(MiB), []],
    ["quoted backslashes", '"password": "' + "\\".repeat(MiB), []],
    ["repeated keys", "token=".repeat(MiB / 6), []],
    ["sk- run", "sk-" + "a".repeat(MiB), []],
    ["AKIA run", "AKIA".repeat(MiB / 4), []],
    ["enc_ run", "enc_".repeat(MiB / 4), []],
    ["marker starts", "[REDACTED:".repeat(MiB / 10), []],
    ["aws secret context", "secret access key = " + "A".repeat(MiB), []],
    ["random base64", randomBytes((MiB * 3) / 4).toString("base64"), []],
    ["userinfo with slashes and no @", "postgres://u:" + "a/".repeat(MiB / 2), []],
    ["userinfo then an @ every other character", "postgres://u:" + "p@".repeat(MiB / 2), ["connection_string_password"]],
    ["telegram-like digits and colons", "1234567890:AA".repeat(MiB / 13), []],
    ["discord-like dotted runs", ("M" + "A".repeat(25) + ".").repeat(MiB / 27), []],
  ];

  it.each(cases)("%s", (_name, input, standardKinds) => {
    expect(redactText(input, off).text).toBe(input);
    expect(redactText(input, standard).report.kinds).toEqual(standardKinds);
    expect(redactText(input, strict).report.kinds.filter((kind) => kind !== "high_entropy")).toEqual(standardKinds);
    const custom = redactText(input, withCustom).report.kinds;
    expect(custom.filter((kind) => !kind.startsWith("custom:"))).toEqual(standardKinds);
  }, 5_000);
});
