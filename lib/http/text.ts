import { z } from "zod";

/**
 * The one set of rules for text that comes from clients. Every string field of every schema
 * is built from these, and `readJson` applies the first rule to every string in a body
 * (keys included), so free-form JSON (session state, event payloads) obeys it too.
 *
 * - Any text: well-formed Unicode (no unpaired surrogate, which UTF-8 cannot encode and our
 *   audit encoder refuses) and no NUL (C strings, logs and terminals cut at it).
 * - Stored text (knowledge, channels, tags): also no control characters but tab and line
 *   breaks, which keeps terminal escapes out of logs and CLIs and frees \u0002/\u0003 to mark
 *   search hits in snippets.
 * - Names (of workspaces, tokens, clients): one line, no control characters at all, and no
 *   bidirectional-override or isolate characters, which can make a name read as another
 *   ("Claude\u202Egnp.exe").
 */

// With the `u` flag a surrogate range matches only a surrogate that is not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NUL = /\u0000/;
const STORED_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Why `value` is not acceptable client text, or null. */
export function textProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return "Text cannot contain an unpaired surrogate (it is not valid Unicode).";
  if (NUL.test(value)) return "Text cannot contain a NUL character.";
  return null;
}

const refineText = (value: string, ctx: z.RefinementCtx, forbidden: RegExp | null, message: string) => {
  const problem = textProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  else if (forbidden?.test(value)) ctx.addIssue({ code: "custom", message });
};

/** Any client string, at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .max(max, `Keep it under ${max} characters.`)
    .superRefine((value, ctx) => refineText(value, ctx, null, ""));

/** Text that is stored and shown (knowledge, tags, channels): tab and line breaks are its only control characters. */
export const storedText = (max: number) =>
  z
    .string()
    .max(max, `Keep it under ${max} characters.`)
    .superRefine((value, ctx) => refineText(value, ctx, STORED_CONTROL, "Control characters are not allowed."));

/** A one-line name people read (a workspace, a token, a client): trimmed, 1 to `max` characters. */
export const nameText = (max: number, empty = "Give it a name.") =>
  z
    .string()
    .trim()
    .min(1, empty)
    .max(max, `Keep the name under ${max} characters.`)
    .superRefine((value, ctx) => refineText(value, ctx, NAME_FORBIDDEN, "The name cannot contain control or text-direction characters."));

/** Names that appear in URLs (sessions, artifacts): no slashes, no dot-only names. */
export const urlName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9._-]+$/, "Use letters, digits, dot, dash and underscore only.")
    .refine((value) => !/^\.+$/.test(value), "A name cannot be only dots.");

/**
 * The path (`a.b.0`) of the first string or key in a parsed JSON value that is not acceptable
 * text, or null. Iterative: bodies are depth-checked before this runs, but a walker that
 * cannot overflow the stack needs no such promise.
 */
export function findBadText(value: unknown): { path: string; problem: string } | null {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === "string") {
      const problem = textProblem(current);
      if (problem) return { path: path.join("."), problem };
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: [...path, String(index)] }));
    } else if (typeof current === "object" && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        const problem = textProblem(key);
        if (problem) return { path: [...path, "(key)"].join("."), problem };
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return null;
}
