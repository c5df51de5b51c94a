import { z } from "zod";
import { HttpError } from "../http/errors";

// Text people and agents store: any Unicode except control characters other than tab and
// newlines. Refusing the rest keeps terminal escapes out of logs and CLIs, and frees \u0002 and
// \u0003 to mark search hits inside snippets.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const plainText = (max: number) =>
  z
    .string()
    .max(max, `Keep it under ${max} characters.`)
    .refine((value) => !CONTROL.test(value), "Control characters are not allowed.");

/** Names that appear in URLs (sessions, artifacts): no slashes, no dot-only names. */
export const urlName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9._-]+$/, "Use letters, digits, dot, dash and underscore only.")
    .refine((value) => !/^\.+$/.test(value), "A name cannot be only dots.");

/** Serialises a JSON value, refusing with 413 one larger than `maxBytes`. */
export function jsonWithin(value: unknown, maxBytes: number, what: string): string {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > maxBytes) throw new HttpError(413, "payload_too_large", `The ${what} is larger than ${maxBytes} bytes.`);
  return text;
}

/** Opaque cursors are base64url JSON: clients pass them back, never build them. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor<T extends z.ZodType>(cursor: string, schema: T): z.infer<T> | null {
  try {
    const result = schema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}
