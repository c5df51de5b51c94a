/**
 * How the built-in secret detectors are built (secret-patterns.ts and provider-tokens.ts hold
 * them; redaction.ts applies them and says what is and is not caught).
 *
 * Why none of these can hang on hostile input (V8's RegExp engine backtracks):
 * - every repetition is bounded ({m,n}), and no quantifier is nested over an overlapping class;
 * - each variable-length run is followed by nothing, by a delimiter its class cannot contain
 *   (`.`, `@`, `:`, `=`, `_`), or by a one-character lookahead (TOKEN_END), so a failed attempt
 *   costs at most its bound and a successful one moves the scan past what it read;
 * - an attempt goes on only where a token may start: for a prefixed token a lookbehind placed
 *   right after the literal prefix (startBehind), for a prefix-less shape a lookbehind behind
 *   its literal middle (infixDetector), rejects a position inside a longer run at once;
 * - the provider tokens sit behind one screen (screened): a single lookahead pass over the text
 *   finds which literal prefixes occur, and only their detectors run.
 * The cost of a scan is therefore linear in the input with a small constant. PEM blocks, whose
 * END line may be missing or far away, and URL userinfo, whose end is "the last `@` before
 * the path", are found by small scanners that remember where the next END, `@`, `/` is.
 * Literal prefixes come first so V8 skips ahead to them instead of trying every position.
 *
 * Precision: a detector here needs a provider's prefix or a fixed structure (lengths, alphabet,
 * separators) with boundaries on both sides, so a longer word does not match. Prefix-less
 * random-looking values are left to `strict` (strictDetectors) or to a key in front of them.
 * A token may start right after a JSON-escaped `\n`, `\r` or `\t`, as in an escaped log line.
 */

export type SecretSpan = { start: number; end: number; kind: string };
export type SecretDetector = { kind: string; find: (text: string) => Iterable<SecretSpan> };

/** Shannon entropy in bits per character (per UTF-16 code unit, which is what we scan). */
export function shannonEntropy(value: string): number {
  const counts = new Map<number, number>();
  for (let index = 0; index < value.length; index++) {
    const unit = value.charCodeAt(index);
    counts.set(unit, (counts.get(unit) ?? 0) + 1);
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

export function characterClassCount(value: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9\s]/].filter((re) => re.test(value)).length;
}

export const hasLetterAndDigit = (value: string) => /[A-Za-z]/.test(value) && /[0-9]/.test(value);

// `$DB_PASSWORD`, `${X}`, `{{ x }}`, `%X%`, `process.env.X`: a reference to a secret, not a secret.
export const VARIABLE_REFERENCE = /^(?:\$[A-Za-z_{(]|\{\{|%[A-Za-z_]|process\.env\b|os\.environ|import\.meta\.env)/;

/**
 * The rule for a value in a `password = X` style assignment: at least 8 characters, and either
 * entropy >= 3.0 bits/char or at least three of {lower, upper, digit, symbol}. For 8 characters
 * entropy 3.0 means all 8 distinct, so `hunter2x` is redacted while `changeme` (2.75) and
 * `password` (2.75) are kept: dictionary words repeat letters, generated secrets rarely do.
 */
export function looksLikeGenericSecret(value: string): boolean {
  if (value.length < 8 || VARIABLE_REFERENCE.test(value)) return false;
  return shannonEntropy(value) >= 3.0 || characterClassCount(value) >= 3;
}

/** strict only: >= 32 characters, entropy >= 4.0 bits/char, letters and digits. */
export function looksHighEntropy(value: string): boolean {
  return hasLetterAndDigit(value) && shannonEntropy(value) >= 4.0;
}

// A Discord bot token opens with the bot's numeric id in base64: decoding it tells a token from
// any other three dotted runs of the same lengths.
export function opensWithDiscordId(value: string): boolean {
  return /^[0-9]{17,20}$/.test(Buffer.from(value.slice(0, value.indexOf(".")), "base64url").toString("latin1"));
}

// Docker's `"auth"` is base64 of `user:password`; anything else under that key is left alone.
export function encodesUserAndPassword(value: string): boolean {
  return /^[^\x00-\x20:]{1,256}:[^\x00-\x1f\x7f]{1,512}$/.test(Buffer.from(value, "base64").toString("latin1"));
}

export type RegexOptions = { accept?: (value: string) => boolean };

/**
 * Redacts the first capture group that took part in the match (the value after a key), or the
 * whole match when the pattern has no groups. Capturing patterns carry the `d` flag.
 */
export function regexDetector(kind: string, pattern: RegExp, options: RegexOptions = {}): SecretDetector {
  return {
    kind,
    *find(text) {
      for (const match of text.matchAll(pattern)) {
        const range = match.indices?.slice(1).find((indices) => indices !== undefined) ?? [
          match.index,
          match.index + match[0].length,
        ];
        const [start, end] = range;
        if (options.accept && !options.accept(text.slice(start, end))) continue;
        yield { start, end, kind };
      }
    },
  };
}

export type KeyedDetector = SecretDetector & { keys?: readonly string[] };

export const escapeRegExp = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
export const anyOf = (literals: readonly string[]) => `(?:${literals.map(escapeRegExp).join("|")})`;

// A token starts where no token character precedes it, or right after a JSON-escaped `\n`,
// `\r` or `\t`, and a fixed-shape one ends where none follows. The start is checked after
// the literal prefix, not before it: a pattern that opens with a lookbehind makes V8 try every
// position. Bodies write `.` as `[.]` so they need no escaping in a string.
export const TOKEN_CHARS = "A-Za-z0-9_-";
export const TOKEN_END = `(?![${TOKEN_CHARS}])`;
export const startBehind = (before: string, chars = TOKEN_CHARS) => String.raw`(?:(?<=\\[nrt]${before})|(?<![${chars}]${before}))`;

export type TokenOptions = RegexOptions & { fixed?: boolean };

export function tokenDetector(kind: string, prefixes: readonly string[], body: string, options: TokenOptions): KeyedDetector {
  const prefix = anyOf(prefixes);
  const pattern = new RegExp(`${prefix}${startBehind(prefix)}(?:${body})${options.fixed ? TOKEN_END : ""}`, "g");
  return { ...regexDetector(kind, pattern, options), keys: prefixes };
}
/** A prefixed token whose body may run longer than usual: everything up to the bound is redacted. */
export const token = (kind: string, prefixes: readonly string[], body: string, options: RegexOptions = {}) =>
  tokenDetector(kind, prefixes, body, options);
/** A prefixed token of fixed shape: a longer run of token characters is some other word. */
export const exact = (kind: string, prefixes: readonly string[], body: string, options: RegexOptions = {}) =>
  tokenDetector(kind, prefixes, body, { ...options, fixed: true });
export const keyed = (keys: readonly string[], detector: SecretDetector): KeyedDetector => ({ ...detector, keys });

/** `shape.key`, when given, is a literal every match contains (for the screen below). */
export type InfixShape = { before: string; infix: string; after: string; start?: string; key?: string };

/**
 * A prefix-less token of fixed structure, found by its literal middle (`-us`, `NRAL`, `Q~`) so
 * V8 can skip to it. The part before the middle is matched by a lookbehind (bounded, and
 * anchored at a run start) that also captures it, which gives the token's first character.
 */
export function infixDetector(kind: string, shape: InfixShape, options: RegexOptions = {}): KeyedDetector {
  const { before, infix, after, start = startBehind(""), key } = shape;
  const pattern = new RegExp(`(?:${infix})(?<=${start}(${before})(?:${infix}))(?:${after})`, "dg");
  return {
    kind,
    keys: key === undefined ? undefined : [key],
    *find(text) {
      for (const match of text.matchAll(pattern)) {
        const first = match.indices?.[1]?.[0] ?? match.index;
        const end = match.index + match[0].length;
        if (options.accept && !options.accept(text.slice(first, end))) continue;
        yield { start: first, end, kind };
      }
    },
  };
}

/**
 * Detectors behind one screen: a single pass finds which literal keys (prefixes, fixed
 * middles) occur in the text, and only detectors with a key present run, plus those without
 * keys. The screen is exact: its lookahead tries every position, and a key found there also
 * marks the shorter keys it begins with (`sk-ant-` marks `sk-`). Spans come out detector by
 * detector, so first-claim-wins sees them as if each detector ran on its own.
 */
export function screened(parts: readonly KeyedDetector[]): SecretDetector & { parts: readonly SecretDetector[] } {
  const keys = [...new Set(parts.flatMap((part) => part.keys ?? []))].sort((a, b) => b.length - a.length);
  const screen = new RegExp(`(?=(${keys.map(escapeRegExp).join("|")}))`, "g");
  const implied = new Map(keys.map((key) => [key, keys.filter((other) => key.startsWith(other))]));
  return {
    kind: "provider_token",
    parts,
    *find(text) {
      const present = new Set<string>();
      const search = new RegExp(screen);
      for (let match = search.exec(text); match; match = search.exec(text)) {
        const key = match[1] ?? "";
        if (!present.has(key)) for (const shorter of implied.get(key) ?? []) present.add(shorter);
        search.lastIndex = match.index + 1;
      }
      for (const part of parts) {
        if (!part.keys || part.keys.some((key) => present.has(key))) yield* part.find(text);
      }
    },
  };
}
