import { providerTokens } from "./provider-tokens";
import {
  encodesUserAndPassword,
  looksHighEntropy,
  looksLikeGenericSecret,
  regexDetector,
  screened,
  type SecretDetector,
} from "./secret-detectors";

/**
 * The built-in secret detectors, in priority order: the provider tokens are provider-tokens.ts's,
 * how every detector is built (and why none can hang) is secret-detectors.ts's, and
 * redaction.ts applies them and says what is and is not caught.
 */
export { looksLikeGenericSecret, shannonEntropy, type SecretDetector, type SecretSpan } from "./secret-detectors";

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

/** The first match at or after `from` (text.length if none), for callers whose `from` never decreases: each character is searched once. */
function forwardFinder(text: string, pattern: RegExp): (from: number) => number {
  const search = new RegExp(pattern.source, "g");
  let found: number | undefined;
  return (from) => {
    if (found === undefined || found < from) {
      search.lastIndex = from;
      found = search.exec(text)?.index ?? text.length;
    }
    return found;
  };
}

// `scheme://user:`, found from its `://`. The user cannot hold `:`, `/`, `@`, `?`, `#`,
// brackets (IPv6 hosts), quotes.
const URL_USERINFO = /:\/\/(?<=(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/)[^\s:/@?#[\]"'`<>]{0,256}:/g;
const MAX_URL_PASSWORD = 256;
// In `https://host:8080/users/@bob` or `http://host:8080?next=a@b` the "password" is a port
// and a path or query.
const PORT_THEN_PATH = /^[0-9]{1,5}[/?#]/;

/**
 * The password of scheme://user:password@host. People paste passwords unencoded, so `@`, `/`, (enclave-scan: allow)
 * `#`, `?`, `+`, `=` may all appear in one: the password ends at the last `@` before the first
 * `/` that follows an `@` (the path), and never crosses whitespace, quotes or `<>`. So
 * `amqp://u:p@ss@mq/jobs` hides `p@ss`, `mongodb+srv://u:a/b=@c/db` hides `a/b=`, and (enclave-scan: allow)
 * `{"u":"pg://u:p@h/db","e":"me@x.com"}` hides only `p`. (enclave-scan: allow)
 */
const urlPasswordDetector: SecretDetector = {
  kind: "connection_string_password",
  *find(text) {
    const head = new RegExp(URL_USERINFO);
    const nextAt = forwardFinder(text, /@/);
    const nextSlash = forwardFinder(text, /\//);
    const nextStop = forwardFinder(text, /[\s"'`<>]/);
    for (let match = head.exec(text); match; match = head.exec(text)) {
      const start = match.index + match[0].length;
      const limit = Math.min(nextStop(start), start + MAX_URL_PASSWORD + 1);
      const firstAt = nextAt(start);
      if (firstAt === start || firstAt >= limit) continue;
      const stop = text.lastIndexOf("@", Math.min(nextSlash(firstAt), limit) - 1);
      if (PORT_THEN_PATH.test(text.slice(start, stop))) continue;
      yield { start, end: stop, kind: "connection_string_password" };
      head.lastIndex = stop + 1;
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

const NETRC_GAP = String.raw`(?:\s|\\[nrt]){1,20}`;
const NETRC_FIELD = String.raw`[^\s"'\\]{1,256}`;

/** Values known by the name in front of them. */
const namedValues: SecretDetector[] = [
  regexDetector(
    "aws_secret_access_key",
    /secret[ _-]?access[ _-]?key(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
  ),
  regexDetector(
    "razorpay_key",
    /(?:razorpay[ _-]?(?:key[ _-]?)?secret|key[ _-]?secret)(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?([A-Za-z0-9]{16,64})(?![A-Za-z0-9])/dgi,
  ),
  // Azure storage and Service Bus connection strings: base64 of 32 or 64 random bytes.
  regexDetector("azure_key", /(?:AccountKey|SharedAccessKey)\s{0,5}=\s{0,5}([A-Za-z0-9+/]{40,256}={0,2})/dgi),
  // The signature of an Azure SAS URL (any `sig=` of 40+ base64 or URL-encoded characters).
  regexDetector("azure_sas", /sig=(?<![A-Za-z0-9_]sig=)([A-Za-z0-9%+/=]{40,256})/dg),
  regexDetector("gcp_private_key_id", /private_key_id(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?([a-f0-9]{40})(?![A-Za-z0-9])/dgi),
  regexDetector("docker_auth", /\\?"auth\\?"\s{0,5}:\s{0,5}\\?"([A-Za-z0-9+/]{8,1024}={0,2})\\?"/dg, { accept: encodesUserAndPassword }),
  // .netrc / _netrc. A separator may also be a JSON-escaped line break; a field never holds a quote or `\`.
  regexDetector(
    "netrc_password",
    new RegExp(
      String.raw`machine(?<![A-Za-z0-9_]machine)${NETRC_GAP}${NETRC_FIELD}${NETRC_GAP}` +
        String.raw`login${NETRC_GAP}${NETRC_FIELD}${NETRC_GAP}password${NETRC_GAP}(${NETRC_FIELD})`,
      "dg",
    ),
    { accept: looksLikeGenericSecret },
  ),
];

/**
 * Built-in kinds with a recognisable shape, most specific first: PEM blocks, then provider
 * tokens (where prefixes overlap the longer comes first: sk-ant- and sk-or-v1- before sk-,
 * sk.eyJ before eyJ), then values known by the name in front of them, then URL passwords.
 */
export const specificDetectors: SecretDetector[] = [privateKeyDetector, screened(providerTokens), ...namedValues, urlPasswordDetector];

/** Context-only kinds, applied after custom patterns: they know least about what they match. */
export const genericDetectors: SecretDetector[] = [
  regexDetector(
    "generic_secret",
    /authorization(?:\\?["'])?\s{0,5}[=:]\s{0,5}(?:\\?["'])?(?:(?:bearer|basic|token|digest)\s{1,5})?((?:[^\s"'`<>;,&\\]|\\(?!["'])){1,4096})/dgi,
    { accept: looksLikeGenericSecret },
  ),
  regexDetector("generic_secret", new RegExp(SECRET_KEY_WORD + ASSIGNMENT + VALUE, "dgi"), { accept: looksLikeGenericSecret }),
];

/** Every built-in detector on its own (the screen unpacked), in priority order: what tests and the corpus report walk. */
export const builtInDetectors: SecretDetector[] = [privateKeyDetector, ...providerTokens, ...namedValues, urlPasswordDetector, ...genericDetectors];

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
 * text rule, at the end of the key, and a service account's `private_key_id`) is judged whole
 * by the same generic rule.
 */
export const SECRET_KEY_NAME = new RegExp(String.raw`(?:${SECRET_KEY_WORD}|authorization|private[_-]?key[_-]?id)$`, "i");
export const MAX_KEYED_VALUE = 1024;
