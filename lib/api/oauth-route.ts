import { z } from "zod";
import { readBody, readJson } from "../http/body";
import { corsPreflight, withCors } from "../http/cors";
import { HttpError } from "../http/errors";
import { limitApiCall, limitClientRegistration } from "../http/rate-limits";
import { oauthError } from "../oauth/errors";
import type { OAuthEndpoint } from "./endpoint";
import { handleRequest, type BaseCtx, type RouteContext } from "./route";

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

/**
 * An OAuth endpoint from its table entry: its brake, then its body read as the entry says — a
 * form against its schema, or JSON whose unreadable forms (malformed, an unpaired surrogate,
 * too deep) are RFC 7591's `invalid_client_metadata` — then `fn`.
 */
type OAuthBody<E extends OAuthEndpoint> = E["body"]["type"] extends "form" ? z.infer<E["body"]["schema"]> : unknown;

export function oauthRoute<const E extends OAuthEndpoint>(endpoint: E, fn: (ctx: BaseCtx & { body: OAuthBody<E> }) => Promise<Response>) {
  return oauthEndpoint(async (base) => {
    if (endpoint.limit === "registration") await limitClientRegistration(base.ip);
    else await limitApiCall("sync", `oauth-${endpoint.operationId}`, base.ip);
    const body = endpoint.body.type === "form" ? await readForm(base.request, endpoint.body.schema) : await readRegistrationJson(base.request);
    return fn({ ...base, body: body as OAuthBody<E> });
  });
}

async function readRegistrationJson(request: Request): Promise<unknown> {
  try {
    return await readJson(request, z.unknown());
  } catch (error) {
    if (error instanceof HttpError && error.status === 400) throw oauthError("invalid_client_metadata", error.message);
    throw error;
  }
}

export const oauthPreflight =
  (...methods: string[]) =>
  () =>
    Promise.resolve(corsPreflight("*", [...methods, "OPTIONS"]));

/**
 * An application/x-www-form-urlencoded body (RFC 6749 §3.2), each parameter at most once,
 * validated with `schema`; what does not fit is an `invalid_request` in OAuth's shape.
 */
export async function readForm<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw oauthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
  }
  const form = new URLSearchParams((await readBody(request, FORM_LIMIT_BYTES)).toString("utf8"));
  const names = [...form.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw oauthError("invalid_request", `The parameter ${repeated} appears more than once.`);
  const result = schema.safeParse(Object.fromEntries(form));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw oauthError("invalid_request", `${issue?.path.join(".") || "form"}: ${issue?.message ?? "invalid"}`);
}
