import type { z } from "zod";
import { getConfig } from "../config";
import { HttpError } from "./errors";
import { findBadText } from "./text";

/**
 * Reads a JSON body no larger than the configured cap (ENCLAVE_BODY_LIMIT_BYTES), counting the
 * bytes as they stream in rather than trusting Content-Length, then validates it with `schema`.
 */
export async function readJson<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const limit = getConfig().ENCLAVE_BODY_LIMIT_BYTES;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "Send the body as application/json.");
  }
  return parseJsonText((await readBody(request, limit)).toString("utf8"), schema);
}

/**
 * JSON text held to the rules every request body is (valid JSON, nesting depth, the text rules
 * for every string and key), then to `schema`: for bodies, and for anything else that arrives
 * as JSON from outside (an imported archive's lines).
 */
export function parseJsonText<T extends z.ZodType>(text: string, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "malformed_json", "The request body is not valid JSON.");
  }
  // Validators and redaction walk JSON recursively: a few KiB of `[[[[…` would overflow the stack (a 500).
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpError(400, "invalid_request", `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  // Before the schema, so free-form values (session state, event payloads) are held to it too.
  const bad = findBadText(value);
  if (bad) throw new HttpError(400, "invalid_request", `${bad.path || "body"}: ${bad.problem}`, {}, { [bad.path || "_"]: [bad.problem] });
  return parseInput(schema, value);
}

export const MAX_JSON_DEPTH = 128;

/** Whether valid JSON `text` nests arrays/objects deeper than `max`, found without recursion. */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

/** Validates any client input (a body, a query string) with `schema`: 400 with field errors when it does not fit. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join(".") || "_";
    (fieldErrors[key] ??= []).push(issue.message);
  }
  const first = result.error.issues[0];
  const message = first ? `${first.path.join(".") || "input"}: ${first.message}` : "Invalid input.";
  throw new HttpError(400, "invalid_request", message, {}, fieldErrors);
}

const tooLarge = (limit: number) =>
  new HttpError(413, "payload_too_large", `The request body is larger than ${limit} bytes.`);

/** The raw body, refused with 413 as soon as it passes `limit` bytes (declared or streamed). */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  // A declared length within the limit is all Node's HTTP parser lets the body be, so it is read
  // whole (the node adapter's fast path, no web stream; asking for `body` would make one) and
  // still held to the limit; a body without one (chunked) is counted as it streams.
  if (request.headers.has("content-length")) {
    const bytes = Buffer.from(await request.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return bytes;
  }
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
