import { RE2JS } from "re2js";
import { z } from "zod";
import {
  genericDetectors,
  looksLikeGenericSecret,
  MAX_KEYED_VALUE,
  REDACTION_MARKER,
  SECRET_KEY_NAME,
  specificDetectors,
  strictDetectors,
  type SecretDetector,
  type SecretSpan,
} from "./secret-patterns";

/**
 * Secret redaction for everything that enters a workspace (knowledge, session state, event
 * payloads, text artifacts), before it is stored. A match becomes `[REDACTED:<kind>]`.
 *
 * Caught at `standard` (secret-patterns.ts has the exact shapes):
 * - PEM private keys, whole block, also when the END line is missing; JWTs.
 * - Tokens with a provider prefix or a fixed structure: Enclave; Anthropic, OpenAI, OpenRouter,
 *   Groq, xAI, Perplexity, Hugging Face, Replicate, LangSmith; GitHub (classic and
 *   fine-grained), GitLab, npm, PyPI, RubyGems, Clojars, Docker Hub, JFrog, Sourcegraph,
 *   Buildkite, CircleCI, Postman, Prefect; AWS key ids, Google API keys, OAuth client secrets
 *   and access tokens, Azure AD client secrets, Alibaba, DigitalOcean, Heroku, Vault, Terraform
 *   Cloud, Doppler, Pulumi, Databricks, Supabase, PlanetScale; Grafana, Sentry, New Relic;
 *   Slack tokens and webhooks, Discord webhooks and bot tokens, Teams webhooks, Telegram bot
 *   tokens, Atlassian, Linear, Notion, Figma, Airtable, Contentful, Dropbox, Mapbox secret
 *   tokens; Stripe, Razorpay, Square, Shopify; Twilio API keys, SendGrid, Mailgun, Mailchimp;
 *   age secret keys.
 * - Values known by the name in front of them: AWS secret keys, Razorpay secrets, Azure
 *   `AccountKey=`/`SharedAccessKey=` and SAS `sig=`, a service account's `private_key_id`, a
 *   Docker config's `"auth"` (base64 of user:password), .netrc passwords.
 * - The password in scheme://user:password@host, any scheme, also with unencoded `@`, `/`, (enclave-scan: allow)
 *   `+`, `=`, `#`, `?` or `%40` in it: it ends at the last `@` before the path.
 * - `password = X` style assignments (also JSON keys and Authorization headers) whose value
 *   passes the generic rule in secret-patterns.ts (>= 8 chars and entropy >= 3.0 or 3
 *   character classes).
 * `strict` adds any run of >= 32 base64/base64url characters with >= 4.0 bits/char and letters
 * and digits, which also redacts base64 images, public keys and other blobs. Team custom
 * patterns become `[REDACTED:custom:<name>]`. `off` redacts nothing, custom patterns included.
 *
 * Deliberately not caught at `standard`: a secret named in prose without `=`/`:` ("my password
 * is x"), low-entropy dictionary values (`password: changeme`), variable references
 * (`$DB_PASSWORD`, `process.env.X`), prefix-less random secrets with nothing naming them
 * (Twilio auth tokens, Cloudflare or Datadog keys, old UUID-shaped Heroku keys: strict, or a
 * `NAME_TOKEN=` in front, catches those), public keys and public identifiers on their own
 * (SSH and age public keys, Twilio account SIDs, Sentry DSNs, Google client ids, Mapbox `pk.`
 * and Supabase publishable keys), a token glued to a longer word (`xghp_…` is another word),
 * `a:b@c` after the first `/` of a URL and `host:8080/path@x` (a port and a path, not
 * userinfo), secrets inside object keys (keys are structure), hex strings (SHAs, UUIDs, even
 * in strict) and secrets split across several JSON strings.
 * Redaction is a safety net for accidents, not a guarantee; the data is encrypted at rest too.
 *
 * Why nothing here can hang: the built-in patterns are written to be linear (see
 * secret-patterns.ts). A team's own patterns are compiled with re2js, an RE2 port whose
 * matching time is linear in the input whatever the pattern: `(a+)+$` cannot backtrack.
 *
 * Overlaps: detectors run from most to least specific and a span is kept only if no earlier
 * span claimed any of its characters: existing markers, then built-in shapes (PEM, provider
 * tokens, named values, URL passwords), then custom patterns, then context rules, then
 * (strict) entropy. So a `ghp_` token in `token = ghp_…` or in `https://x:ghp_…@github.com` is (enclave-scan: allow)
 * a github_token, and a second pass finds nothing new.
 */

const LEVELS = ["off", "standard", "strict"] as const;
export type RedactionLevel = (typeof LEVELS)[number];
export const redactionLevels: readonly RedactionLevel[] = LEVELS;

const PATTERN_NAME = /^[a-z0-9_]{1,40}$/;
const MAX_PATTERN_LENGTH = 300;
const MAX_CUSTOM_PATTERNS = 20;

/** Why a pattern cannot be used, or null. RE2 has no lookaround or backreferences. */
function patternProblem(pattern: string): string | null {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    if (/\(\?<?[=!]/.test(pattern)) {
      return "Lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported: patterns run on RE2, which matches in linear time.";
    }
    const detail = error instanceof Error ? error.message.replace(/^error parsing regexp: /, "") : String(error);
    return `The pattern is not a valid RE2 regular expression: ${detail}.`;
  }
  if (compiled.matcher("").find()) return "The pattern matches the empty string, so it would match everywhere.";
  return null;
}

export const customPatternSchema = z.object({
  name: z.string().regex(PATTERN_NAME, "Use 1 to 40 lowercase letters, digits or underscores."),
  pattern: z
    .string()
    .min(1, "The pattern is empty.")
    .max(MAX_PATTERN_LENGTH, `Keep the pattern to ${MAX_PATTERN_LENGTH} characters.`)
    .superRefine((pattern, ctx) => {
      const problem = patternProblem(pattern);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
});

export const redactionSettingsSchema = z.object({
  level: z.enum(LEVELS),
  customPatterns: z
    .array(customPatternSchema)
    .max(MAX_CUSTOM_PATTERNS, `At most ${MAX_CUSTOM_PATTERNS} custom patterns.`)
    .default([])
    .superRefine((patterns, ctx) => {
      const seen = new Set<string>();
      patterns.forEach(({ name }, index) => {
        if (seen.has(name)) ctx.addIssue({ code: "custom", path: [index, "name"], message: `The name "${name}" is used twice.` });
        seen.add(name);
      });
    }),
});

export type RedactionSettings = { level: RedactionLevel; customPatterns: { name: string; pattern: string }[] };
export type CompiledPattern = { readonly name: string; readonly regex: RE2JS };
export type RedactionPolicy = { level: RedactionLevel; custom: CompiledPattern[] };
export type RedactionReport = { count: number; kinds: string[] };

/** Validates again (settings may come from an older row) and fails loudly rather than skip a pattern. */
export function compilePolicy(settings: RedactionSettings): RedactionPolicy {
  const parsed = redactionSettingsSchema.parse(settings);
  const custom = parsed.customPatterns.map(({ name, pattern }) => ({ name, regex: RE2JS.compile(pattern) }));
  return Object.freeze({ level: parsed.level, custom: Object.freeze(custom) as CompiledPattern[] });
}

export const defaultPolicy: RedactionPolicy = compilePolicy({ level: "standard", customPatterns: [] });
// Frozen because it is shared: every call that finds nothing returns this same object.
export const emptyReport: RedactionReport = Object.freeze({ count: 0, kinds: Object.freeze([]) as unknown as string[] });

const KEEP = "marker";

function customDetector({ name, regex }: CompiledPattern): SecretDetector {
  const kind = `custom:${name}`;
  return {
    kind,
    *find(text) {
      const matcher = regex.matcher(text);
      while (matcher.find()) {
        if (matcher.end() > matcher.start()) yield { start: matcher.start(), end: matcher.end(), kind };
      }
    },
  };
}

const markerDetector: SecretDetector = {
  kind: KEEP,
  *find(text) {
    for (const match of text.matchAll(REDACTION_MARKER)) yield { start: match.index, end: match.index + match[0].length, kind: KEEP };
  },
};

function detectorsFor(policy: RedactionPolicy): SecretDetector[] {
  return [
    markerDetector,
    ...specificDetectors,
    ...policy.custom.map(customDetector),
    ...genericDetectors,
    ...(policy.level === "strict" ? strictDetectors : []),
  ];
}

/**
 * First claim wins, in detector order. The claim map costs one byte per character and each
 * detector's spans do not overlap one another, so resolving is linear in the text.
 */
function resolveSpans(text: string, detectors: SecretDetector[]): SecretSpan[] {
  let claimed: Uint8Array | undefined;
  const kept: SecretSpan[] = [];
  for (const detector of detectors) {
    for (const span of detector.find(text)) {
      if (span.end <= span.start) continue;
      claimed ??= new Uint8Array(text.length);
      if (claimed.subarray(span.start, span.end).some((byte) => byte === 1)) continue;
      claimed.fill(1, span.start, span.end);
      kept.push(span);
    }
  }
  return kept.sort((a, b) => a.start - b.start);
}

function reportOf(kinds: string[]): RedactionReport {
  return { count: kinds.length, kinds: [...new Set(kinds)].sort() };
}

/** Where the secrets in `text` are, in order: what redactText replaces, and what `enclave scan` reports. */
export function findSecrets(text: string, policy: RedactionPolicy): SecretSpan[] {
  if (policy.level === "off" || text.length === 0) return [];
  return resolveSpans(text, detectorsFor(policy)).filter((span) => span.kind !== KEEP);
}

export function redactText(text: string, policy: RedactionPolicy): { text: string; report: RedactionReport } {
  const parts: string[] = [];
  const kinds: string[] = [];
  let cursor = 0;
  for (const span of findSecrets(text, policy)) {
    parts.push(text.slice(cursor, span.start), `[REDACTED:${span.kind}]`);
    kinds.push(span.kind);
    cursor = span.end;
  }
  if (kinds.length === 0) return { text, report: emptyReport };
  parts.push(text.slice(cursor));
  return { text: parts.join(""), report: reportOf(kinds) };
}

export function mergeReports(...reports: RedactionReport[]): RedactionReport {
  const count = reports.reduce((sum, report) => sum + report.count, 0);
  if (count === 0) return emptyReport;
  return { count, kinds: [...new Set(reports.flatMap((report) => report.kinds))].sort() };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A value under a secret-named key that nothing matched inside is judged whole. */
function redactKeyedValue(key: string, value: string, policy: RedactionPolicy, reports: RedactionReport[]): string {
  const inner = redactText(value, policy);
  if (policy.level === "off") return value;
  if (inner.report.count > 0) {
    reports.push(inner.report);
    return inner.text;
  }
  const keyed =
    SECRET_KEY_NAME.test(key) &&
    value.length <= MAX_KEYED_VALUE &&
    !new RegExp(REDACTION_MARKER.source).test(value) &&
    looksLikeGenericSecret(value);
  if (!keyed) return value;
  reports.push({ count: 1, kinds: ["generic_secret"] });
  return "[REDACTED:generic_secret]";
}

function walk(value: unknown, policy: RedactionPolicy, reports: RedactionReport[]): unknown {
  if (typeof value === "string") {
    const result = redactText(value, policy);
    if (result.report.count > 0) reports.push(result.report);
    return result.text;
  }
  if (Array.isArray(value)) return value.map((item) => walk(item, policy, reports));
  if (!isPlainObject(value)) return value;
  // Object.fromEntries defines properties, so a "__proto__" key stays an own data property.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      typeof item === "string" ? redactKeyedValue(key, item, policy, reports) : walk(item, policy, reports),
    ]),
  );
}

/**
 * Every string in a JSON value (arrays and plain objects, recursively); keys are kept as they
 * are. Numbers, booleans, null and non-plain objects pass through. Returns a new value.
 */
export function redactJson<T>(value: T, policy: RedactionPolicy): { value: T; report: RedactionReport } {
  const reports: RedactionReport[] = [];
  const redacted = walk(value, policy, reports) as T;
  return { value: redacted, report: mergeReports(...reports) };
}
