import { handleRequest, type BaseCtx, type RouteContext } from "../api/route";
import { readBody } from "../http/body";
import { corsPreflight, withCors } from "../http/cors";
import { oauthError } from "./errors";

/**
 * Plumbing shared by the OAuth endpoints that machines call (metadata, register, token,
 * revoke): CORS open to any origin — they take no cookies, so a browser-based client such as
 * MCP Inspector may call them — and never cached. /oauth/authorize is a page and gets none of this.
 */
const FORM_LIMIT_BYTES = 16 * 1024;

export function oauthEndpoint(fn: (ctx: BaseCtx) => Promise<Response>) {
  return async (request: Request, routeContext?: RouteContext): Promise<Response> => {
    const response = withCors(await handleRequest(request, routeContext, fn), "*");
    response.headers.set("cache-control", "no-store");
    return response;
  };
}

export const oauthPreflight =
  (...methods: string[]) =>
  () =>
    Promise.resolve(corsPreflight("*", [...methods, "OPTIONS"]));

/** An application/x-www-form-urlencoded body (RFC 6749 §3.2), with each parameter at most once. */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw oauthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
  }
  const form = new URLSearchParams((await readBody(request, FORM_LIMIT_BYTES)).toString("utf8"));
  const names = [...form.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw oauthError("invalid_request", `The parameter ${repeated} appears more than once.`);
  return form;
}
