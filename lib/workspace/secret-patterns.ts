/**
 * The built-in secret detectors, in priority order (see redaction.ts for how they are applied
 * and for what is deliberately not caught).
 *
 * Why none of these can hang on hostile input (V8's RegExp engine backtracks):
 * - every repetition is bounded ({m,n}), and no quantifier is nested over an overlapping class;
 * - each variable-length run is followed either by nothing or by a delimiter its class cannot
 *   contain (`.`, `@`, `:`, `=`), so the engine has exactly one place to end the run;
 * - patterns that start with a character class have a one-character lookbehind, so an attempt
 *   starts only at the beginning of a run, never at every position inside it.
 * The cost of a scan is therefore linear in the input with a small constant. PEM blocks, whose
 * END line may be missing or far away, are found by a scanner instead of a lazy `.*?`.
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

function characterClassCount(value: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9\s]/].filter((re) => re.test(value)).length;
}

const hasLetterAndDigit = (value: string) => /[A-Za-z]/.test(value) && /[0-9]/.test(value);

// `$DB_PASSWORD`, `${X}`, `{{ x }}`, `%X%`, `process.env.X`: a reference to a secret, not a secret.
const VARIABLE_REFERENCE = /^(?:\$[A-Za-z_{(]|\{\{|%[A-Za-z_]|process\.env\b|os\.environ|import\.meta\.env)/;

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
function looksHighEntropy(value: string): boolean {
  return hasLetterAndDigit(value) && shannonEntropy(value) >= 4.0;
}

type RegexOptions = { accept?: (value: string) => boolean };

/**
 * Redacts the first capture group that took part in the match (the value after a key), or the
 * whole match when the pattern has no groups. Capturing patterns carry the `d` flag.
 */
function regexDetector(kind: string, pattern: RegExp, options: RegexOptions = {}): SecretDetector {
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

// A key is at most ~16 KiB of base64; a longer gap to an END line means it is not this key's END.
const MAX_PEM_BODY = 16_384;
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
// Without an END line (truncated paste, log line cut off) the base64 that follows is still key
// material: redact the header and that body. `\\` keeps JSON-escaped `\n` inside the body.
const PEM_UNTERMINATED_BODY = /[A-Za-z0-9+/=\r\n\\]{0,16384}/y;

/**
 * PEM private keys, whole block. The END search result is remembered: once no END exists after
 * position p, none exists after any later BEGIN either, so the scan stays linear even for a
 * text of a million BEGIN lines.
 */
const privateKeyDetector: SecretDetector = {
  kind: "private_key",
  *find(text) {
    const begin = new RegExp(PEM_BEGIN);
    const end = new RegExp(PEM_END);
    const body = new RegExp(PEM_UNTERMINATED_BODY);
    let nextEnd: { at: number; stop: number } | undefined;
    for (let header = begin.exec(text); header; header = begin.exec(text)) {
      const bodyStart = header.index + header[0].length;
      if (!nextEnd || (nextEnd.at !== -1 && nextEnd.at < bodyStart)) {
        end.lastIndex = bodyStart;
        const found = end.exec(text);
        nextEnd = found ? { at: found.index, stop: found.index + found[0].length } : { at: -1, stop: -1 };
      }
      let stop = nextEnd.stop;
      if (nextEnd.at === -1 || nextEnd.at - bodyStart > MAX_PEM_BODY) {
        body.lastIndex = bodyStart;
        body.exec(text);
        stop = body.lastIndex;
      }
      yield { start: header.index, end: stop, kind: "private_key" };
      begin.lastIndex = stop;
    }
  },
};

/** Existing `[REDACTED:…]` markers: kept as they are so a second pass changes nothing. */
export const REDACTION_MARKER = /\[REDACTED:[a-z0-9_:]{1,60}\]/g;

const SECRET_KEY_WORD = String.raw`(?:passw(?:or)?d|passphrase|secret|api[_-]?key|access[_-]?key|token|credentials?|private[_-]?key)s?(?:[_.-]?key)?`;
const ASSIGNMENT = String.raw`(?:\\?["'])?\s{0,5}(?::=|=>|[=:])\s{0,5}`;
// Quoted values may hold anything but their quote (JSON escapes included); unquoted values end
// at whitespace, quotes or the separators of query strings, cookies and ADO-style strings.
// JSON that was itself escaped into a string (`{\"password\": \"…\"}` in a log line) has its
// value between `\"` and `\"`: tried first. An unquoted value never swallows the backslash of
// a following `\"`, or redacting it would leave the surrounding string wrongly escaped.
const VALUE = String.raw`(?:\\"((?:[^"\\\r\n]|\\[^"\r\n]){1,1024})|"((?:[^"\\\r\n]|\\.){1,1024})|'([^'\r\n]{1,1024})|((?:[^\s"'\x60<>;,&\\]|\\(?!["'])){1,1024}))`;

/** Built-in kinds with a recognisable shape, most specific first. */
export const specificDetectors: SecretDetector[] = [
  privateKeyDetector,
  regexDetector("enclave_token", /(?<![A-Za-z0-9_-])enc_(?:at_|rt_|ac_|cs_)?[A-Za-z0-9_-]{43}[A-Za-z0-9]{6}(?![A-Za-z0-9_-])/g),
  regexDetector("anthropic_key", /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,512}/g),
  regexDetector("github_token", /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}/g),
  regexDetector("github_token", /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{82,255}/g),
  regexDetector("gitlab_token", /(?<![A-Za-z0-9_-])gl(?:pat|ptt|rt|dt)-[A-Za-z0-9_-]{20,255}/g),
  regexDetector("stripe_key", /(?<![A-Za-z0-9_])(?:[spr]k_(?:live|test)|whsec)_[A-Za-z0-9]{16,255}/g),
  regexDetector("razorpay_key", /(?<![A-Za-z0-9_])rzp_(?:live|test)_[A-Za-z0-9]{14,64}/g),
  regexDetector("slack_token", /(?<![A-Za-z0-9_-])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,512}/g),
  regexDetector("slack_token", /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{10,512}/g),
  regexDetector("aws_access_key_id", /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g),
  regexDetector("jwt", /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,16384}\.[A-Za-z0-9_-]{16,4096}/g),
  // After anthropic_key, which claims `sk-ant-` first. A body without digits is a word (sk-learn-…).
  regexDetector("openai_key", /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,512}/g, { accept: hasLetterAndDigit }),
  regexDetector(
    "aws_secret_access_key",
    /secret[ _-]?access[ _-]?key(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
  ),
  regexDetector(
    "razorpay_key",
    /(?:razorpay[ _-]?(?:key[ _-]?)?secret|key[ _-]?secret)(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?([A-Za-z0-9]{16,64})(?![A-Za-z0-9])/dgi,
  ),
  // Only the userinfo password of scheme://user:password@host; the authority ends at `/`, so
  // `https://example.com/a:b@c` is a path, not a password. `@`, `#` and `?` are allowed inside
  // the password because people paste them unencoded; the last `@` before the path ends it.
  regexDetector("connection_string_password", /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:/@?#]{0,256}:([^\s/]{1,256})@/dg),
];

/** Context-only kinds, applied after custom patterns: they know least about what they match. */
export const genericDetectors: SecretDetector[] = [
  regexDetector(
    "generic_secret",
    /authorization(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?(?:(?:bearer|basic|token|digest)\s{1,5})?((?:[^\s"'`<>;,&\\]|\\(?!["'])){1,4096})/dgi,
    { accept: looksLikeGenericSecret },
  ),
  regexDetector("generic_secret", new RegExp(SECRET_KEY_WORD + ASSIGNMENT + VALUE, "dgi"), { accept: looksLikeGenericSecret }),
];

/**
 * strict adds long random-looking runs. Runs longer than 4096 are scanned in 4096-character
 * chunks, each judged on its own, so base64 blobs (images, archives) are redacted in strict.
 * Hex can never reach 4.0 bits/char unless perfectly uniform, so SHAs and UUIDs are kept.
 */
export const strictDetectors: SecretDetector[] = [
  regexDetector("high_entropy", /[A-Za-z0-9+/=_-]{32,4096}/g, { accept: looksHighEntropy }),
];

/**
 * JSON objects carry the key apart from the value, so `{ "password": "X" }` has no assignment
 * in any single string. A string value under a key named like a secret (same words as the
 * text rule, at the end of the key) is judged whole by the same generic rule.
 */
export const SECRET_KEY_NAME = new RegExp(String.raw`(?:${SECRET_KEY_WORD}|authorization)$`, "i");
export const MAX_KEYED_VALUE = 1024;
