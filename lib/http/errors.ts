/**
 * The one error shape every JSON endpoint answers with:
 *   { "error": "<code>", "message": "<human sentence>", "requestId": "…" }
 * Throw an HttpError anywhere below a handler; `handler()` turns it into this response.
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

export function errorResponse(error: HttpError, requestId: string): Response {
  const body: Record<string, unknown> = { ...error.extra, error: error.code, message: error.message, requestId };
  if (error.fieldErrors) body.fieldErrors = error.fieldErrors;
  return Response.json(body, { status: error.status, headers: { ...error.headers, "cache-control": "no-store" } });
}

export const notFound = (what = "Not found.") => new HttpError(404, "not_found", what);
