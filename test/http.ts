import { parse } from "cookie";
import { sessionCookieName } from "@/lib/auth/cookies";

export const ORIGIN = "http://localhost:3000";

type Handler = (request: Request, context?: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;

/** Calls a route handler the way Next would, with a same-origin browser's headers by default. */
export function call(
  handler: Handler,
  options: { method?: string; body?: unknown; rawBody?: string; cookie?: string; headers?: Record<string, string>; params?: Record<string, string> } = {},
): Promise<Response> {
  const method = options.method ?? (options.body !== undefined || options.rawBody !== undefined ? "POST" : "GET");
  const headers: Record<string, string> = { origin: ORIGIN, ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  // An empty value means "send no such header" (e.g. a request without Origin).
  for (const [name, value] of Object.entries(headers)) if (value === "") delete headers[name];
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const request = new Request(`${ORIGIN}/api/test`, { method, headers, body });
  return handler(request, { params: Promise.resolve(options.params ?? {}) });
}

/** The `name=value` pair of the session cookie a response set, ready to send back. */
export function sessionCookieFrom(response: Response): string {
  const header = response.headers.get("set-cookie") ?? "";
  const value = parse(header)[sessionCookieName()];
  if (!value) throw new Error(`no session cookie in ${header}`);
  return `${sessionCookieName()}=${value}`;
}
