/**
 * CORS for the endpoints browsers may call from other origins: /mcp (an MCP Inspector, a web
 * AI client, each origin allowed by name) and the OAuth metadata and token endpoints (`*`:
 * they carry no cookie and nothing ambient, so any origin may read them).
 *
 * The portal's own API sends no CORS headers at all: it is same-origin only.
 */

/** Request headers a cross-origin MCP or OAuth client sends (the MCP transport's, plus bearer auth). */
export const corsAllowedHeaders = ["Authorization", "Content-Type", "Mcp-Protocol-Version", "Mcp-Session-Id", "Last-Event-ID"];

// A browser hides every response header from script unless it is listed: clients need these to
// follow an auth challenge and to track the protocol version.
const exposedHeaders = ["WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version"];

// Long enough to spare a preflight per request, short enough that a config change lands soon.
const PREFLIGHT_MAX_AGE_SECONDS = 600;

function setOriginHeaders(headers: Headers, allowOrigin: string): void {
  headers.set("Access-Control-Allow-Origin", allowOrigin);
  // The answer depends on the request's Origin unless it is `*`: caches must not mix them up.
  if (allowOrigin !== "*") headers.append("Vary", "Origin");
}

/** `response`, readable by script on `allowOrigin` (an origin, or `*`). */
export function withCors(response: Response, allowOrigin: string): Response {
  // A copy: a Response's headers may be immutable (one that came from fetch, say).
  const headers = new Headers(response.headers);
  setOriginHeaders(headers, allowOrigin);
  headers.set("Access-Control-Expose-Headers", exposedHeaders.join(", "));
  // Meant to be read from other origins: the default same-origin CORP would say otherwise.
  headers.set("Cross-Origin-Resource-Policy", "cross-origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The answer to a preflight (OPTIONS) from `allowOrigin` for a route serving `methods`. */
export function corsPreflight(allowOrigin: string, methods: readonly string[], allowHeaders: readonly string[] = corsAllowedHeaders): Response {
  const headers = new Headers({
    "Access-Control-Allow-Methods": methods.join(", "),
    "Access-Control-Allow-Headers": allowHeaders.join(", "),
    "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_SECONDS),
    Allow: methods.join(", "),
  });
  setOriginHeaders(headers, allowOrigin);
  return new Response(null, { status: 204, headers });
}
