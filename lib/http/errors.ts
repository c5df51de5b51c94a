/**
 * The one error shape every JSON endpoint answers with:
 *   { "error": "<code>", "message": "<human sentence>", "requestId": "…" }
 * Throw an HttpError anywhere below a route; its wrapper (lib/api/route.ts) turns it into this
 * response, and server.ts writes the same body for what it refuses before any route.
 */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly fieldErrors?: Record<string, string[]>,
    /** Extra machine-readable fields beside the standard ones (e.g. the current `rev` on a conflict). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class RateLimitedError extends HttpError {
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, "rate_limited", `Too many attempts. Try again in ${seconds} seconds.`, { "Retry-After": String(seconds) });
  }
}

/** The shape's fields for `error`: what every JSON error body is, whoever writes it out. */
export function errorBody(error: HttpError, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = { ...error.extra, error: error.code, message: error.message, requestId };
  if (error.fieldErrors) body.fieldErrors = error.fieldErrors;
  return body;
}

export function errorResponse(error: HttpError, requestId: string): Response {
  return Response.json(errorBody(error, requestId), { status: error.status, headers: { ...error.headers, "cache-control": "no-store" } });
}

export const notFound = (what = "Not found.") => new HttpError(404, "not_found", what);
