import { z } from "zod";
import { HttpError } from "../http/errors";

/** Any JSON value, as z.json() parses one: what session state and event payloads are. */
export type JsonValue = z.output<ReturnType<typeof z.json>>;

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
