import { HttpError } from "./errors";

/**
 * What the server refuses before any route sees a request: methods it does not serve, and
 * request targets it cannot read. Next answers a malformed percent-escape in the path with a
 * bare 500 (it throws decoding the params) and an unknown method like TRACE with a 500 and a
 * stack trace in the log; both are the client's fault, so they get a 4xx in our error shape.
 */
export const SERVED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

// Decoded, a path may hold no control characters: nothing we serve is named with them, and
// they are how log lines and terminals get spoofed.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The refusal for `method` and `target` (a path with its query, as on the request line), or null to go on. */
export function requestTargetProblem(method: string, target: string): HttpError | null {
  if (!(SERVED_METHODS as readonly string[]).includes(method)) {
    return new HttpError(405, "method_not_allowed", `This server does not serve ${method.slice(0, 20)} requests.`, { allow: SERVED_METHODS.join(", ") });
  }
  let pathname: string;
  try {
    // Absolute-form targets (`GET http://host/path`) are legal HTTP; only the path is ours.
    pathname = target.startsWith("/") ? (target.split("?")[0] ?? "/") : new URL(target).pathname;
  } catch {
    return new HttpError(400, "malformed_path", "The request target is not a path.");
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return new HttpError(400, "malformed_path", "The path has a malformed percent-escape.");
  }
  if (CONTROL.test(decoded)) return new HttpError(400, "malformed_path", "The path contains a control character.");
  return null;
}
