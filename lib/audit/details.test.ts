import { describe, expect, it } from "vitest";
import { canonicalJson } from "./chain";
import { AUDIT_DETAILS_MAX_BYTES, capDetails, limitJson, ROW_LIMITS } from "./details";

const bytes = (value: unknown) => Buffer.byteLength(canonicalJson(value));

describe("audit details are bounded", () => {
  it("leaves small details exactly as they are", () => {
    const details = { title: "Runbook", fields: ["body"], version: 3, redaction: { count: 1, kinds: ["jwt"] } };
    expect(capDetails(details)).toEqual(details);
  });

  it("cuts long strings with an ellipsis, never inside a surrogate pair (a lone half would not encode)", () => {
    const emoji = "😀".repeat(200);
    const capped = limitJson({ text: emoji }, ROW_LIMITS) as { text: string };
    expect(capped.text.length).toBeLessThanOrEqual(ROW_LIMITS.string);
    expect(capped.text.endsWith("…")).toBe(true);
    expect(() => canonicalJson(capped)).not.toThrow();
    expect(capped.text.slice(0, -1)).toMatch(/^(?:😀)+$/u);
  });

  it("omits, rather than cuts, a long string when asked (a cut could split a secret)", () => {
    expect(limitJson("x".repeat(5000), { ...ROW_LIMITS, string: 4096, long: "omit" })).toBe("[5000 characters, not recorded]");
  });

  it("says how many items and keys it left out, and what lay below the depth it keeps", () => {
    const limited = limitJson({ list: Array.from({ length: 25 }, (_, i) => i), wide: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])), deep: { a: { b: { c: { d: { e: 1 } } } } } }, ROW_LIMITS) as Record<string, unknown>;
    expect((limited.list as unknown[]).at(-1)).toBe("… 5 more");
    expect((limited.wide as Record<string, unknown>)["…"]).toBe("10 more keys");
    expect(JSON.stringify(limited.deep)).toContain("[object of 1 keys, not recorded]");
  });

  it("keeps every row within 2 KB, however wide, deep or multi-byte the details", () => {
    const huge = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key-${"é".repeat(300)}-${i}`, { nested: ["ü".repeat(1000), { more: "ß".repeat(1000) }] }]));
    for (const details of [huge, { arguments: huge }, { a: "€".repeat(100_000) }]) expect(bytes(capDetails(details))).toBeLessThanOrEqual(AUDIT_DETAILS_MAX_BYTES);
  });

  it("turns what is not JSON into null, and keeps a __proto__ key an own key", () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as Record<string, unknown>;
    const limited = limitJson({ ...parsed, inf: Infinity, date: new Date(0) }, ROW_LIMITS) as Record<string, unknown>;
    expect(Object.hasOwn(limited, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(limited.inf).toBeNull();
    expect(limited.date).toBeNull();
  });
});
