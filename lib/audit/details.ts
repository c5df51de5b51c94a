import { canonicalJson } from "./chain";

/**
 * How much one audit row may say. Rows are kept for 13 months, signed into evidence bundles and
 * shown in the portal, and some of what they record came from a client (tool arguments), so
 * every row's details are bounded: each string, key, array, object and nesting level, and the
 * whole encoding. `appendAudit` applies `capDetails` to every row; what carries client text is
 * redacted first (lib/workspace/audit-records.ts), because cutting a secret in half could leave
 * a piece that no detector recognises any more.
 */
export const AUDIT_DETAILS_MAX_BYTES = 2048;

export type JsonLimits = {
  /** Longest string (and key) kept, in UTF-16 code units. */
  string: number;
  /** What happens to a longer string: cut (with an ellipsis), or replaced by a note of its length. */
  long: "cut" | "omit";
  items: number;
  keys: number;
  depth: number;
};

/** Row-sized: what a reader can take in at a glance. */
export const ROW_LIMITS: JsonLimits = { string: 256, long: "cut", items: 20, keys: 30, depth: 5 };
// Tighter steps, tried in turn until the row fits AUDIT_DETAILS_MAX_BYTES.
// The last keeps only the top level, short: it fits unless the text is mostly multi-byte or escaped.
const SHRINKING: JsonLimits[] = [
  ROW_LIMITS,
  { ...ROW_LIMITS, string: 64, items: 8, keys: 12, depth: 4 },
  { ...ROW_LIMITS, string: 24, items: 4, keys: 8, depth: 3 },
  { ...ROW_LIMITS, string: 32, items: 4, keys: 10, depth: 1 },
];

const ELLIPSIS = "…";

/** The first `max` code units of `text`, never ending inside a surrogate pair (a lone half is not valid Unicode, and the audit encoder refuses it). */
function cut(text: string, max: number): string {
  const end = max > 0 && /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, Math.max(0, end));
}

function limitString(text: string, limits: JsonLimits): string {
  if (text.length <= limits.string) return text;
  return limits.long === "omit" ? `[${text.length} characters, not recorded]` : `${cut(text, limits.string - 1)}${ELLIPSIS}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * A copy of a JSON value within `limits`: cut arrays end with a note of how many items were
 * left out, cut objects with a `…` key saying how many keys were; values below `depth` become
 * a note. Numbers, booleans and null pass; anything that is not JSON becomes null.
 */
export function limitJson(value: unknown, limits: JsonLimits, depth = 0): unknown {
  if (typeof value === "string") return limitString(value, limits);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) {
    if (depth >= limits.depth) return `[array of ${value.length}, not recorded]`;
    const kept = value.slice(0, limits.items).map((item) => limitJson(item, limits, depth + 1));
    return value.length > limits.items ? [...kept, `${ELLIPSIS} ${value.length - limits.items} more`] : kept;
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    if (depth >= limits.depth) return `[object of ${entries.length} keys, not recorded]`;
    // Object.fromEntries defines properties, so a "__proto__" key stays an own data property.
    const kept = Object.fromEntries(entries.slice(0, limits.keys).map(([key, item]) => [limitString(key, limits), limitJson(item, limits, depth + 1)]));
    if (entries.length > limits.keys) kept[ELLIPSIS] = `${entries.length - limits.keys} more keys`;
    return kept;
  }
  return null;
}

/**
 * `details` as a row keeps them: within ROW_LIMITS and, tightening step by step, within
 * AUDIT_DETAILS_MAX_BYTES of the encoding the row is hashed with; past the last step, a note.
 */
export function capDetails(details: Record<string, unknown>): Record<string, unknown> {
  let bytes = 0;
  for (const limits of SHRINKING) {
    const capped = limitJson(details, limits) as Record<string, unknown>;
    bytes = Buffer.byteLength(canonicalJson(capped));
    if (bytes <= AUDIT_DETAILS_MAX_BYTES) return capped;
  }
  return { [ELLIPSIS]: `details of ${bytes} bytes, not recorded` };
}
