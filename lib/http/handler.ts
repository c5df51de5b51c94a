import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { getConfig } from "../config";
import { parse } from "cookie";
import { getAuthProvider } from "../auth/provider";
import type { SignedIn } from "../auth/sessions";
import { getRequestContext, noteActor } from "./context";
import { errorResponse, HttpError } from "./errors";
import { readJson } from "./body";
import { logger } from "./log";

/**
 * Wraps a JSON route handler by trust level:
 *   public   — anyone (sign-in, sign-up); state-changing calls must still be same-origin
 *   user     — a signed-in portal session; same-origin for anything but GET/HEAD
 * then parses the body with `body` (capped, zod-validated) and turns every thrown HttpError
 * into the one error shape. Anything else becomes a 500 with no detail beyond the request id.
 */
type Trust = "public" | "user";
type Ctx<TBody, TTrust extends Trust> = BaseCtx & { body: TBody } & (TTrust extends "user" ? { session: SignedIn } : object);

type Options<TSchema extends z.ZodType | undefined, TTrust extends Trust> = { trust: TTrust; body?: TSchema };
export type RouteContext = { params: Promise<Record<string, string | string[]>> };

export type BaseCtx = {
  request: Request;
  params: Record<string, string>;
  requestId: string;
  ip: string;
  userAgent: string | undefined;
};

/**
 * The part every JSON route shares: a request id, the route params, and one error shape for
 * whatever `fn` throws. An HttpError becomes its status; anything else a 500 with no detail
 * beyond the request id.
 */
export async function handleRequest(
  request: Request,
  routeContext: RouteContext | undefined,
  fn: (base: BaseCtx) => Promise<Response>,
): Promise<Response> {
  const context = getRequestContext();
  const requestId = context?.requestId ?? request.headers.get("x-request-id") ?? randomUUID();
  try {
    return await fn({
      request,
      requestId,
      ip: context?.ip ?? "unknown",
      userAgent: request.headers.get("user-agent") ?? undefined,
      params: flattenParams((await routeContext?.params) ?? {}),
    });
  } catch (error) {
    if (error instanceof HttpError) return errorResponse(error, requestId);
    if (request.signal.aborted) {
      // The client hung up mid-request (a closed tab, a benchmark ending): nobody to answer.
      logger.info({ requestId }, "client aborted the request");
      return errorResponse(new HttpError(400, "request_aborted", "The request was aborted."), requestId);
    }
    logger.error({ err: error, requestId }, "unhandled error in route handler");
    return errorResponse(new HttpError(500, "internal_error", "Something went wrong on our side."), requestId);
  }
}

export function handler<TSchema extends z.ZodType | undefined = undefined, TTrust extends Trust = "public">(
  options: Options<TSchema, TTrust>,
  fn: (ctx: Ctx<TSchema extends z.ZodType ? z.infer<TSchema> : undefined, TTrust>) => Promise<Response>,
) {
  return (request: Request, routeContext?: RouteContext): Promise<Response> =>
    handleRequest(request, routeContext, async (base) => {
      if (!["GET", "HEAD"].includes(request.method)) assertSameOrigin(request);
      let auth = {};
      if (options.trust === "user") {
        const session = await sessionFromCookies(request);
        if (!session) throw new HttpError(401, "unauthenticated", "Sign in to continue.");
        noteActor(`user:${session.user.id}`);
        auth = { session };
      }
      const body = options.body ? await readJson(request, options.body) : undefined;
      return fn({ ...base, ...auth, body } as Parameters<typeof fn>[0]);
    });
}

export function sessionFromCookies(request: Request): Promise<SignedIn | null> {
  const cookies = parse(request.headers.get("cookie") ?? "");
  return getAuthProvider().signedIn((name) => cookies[name]);
}

/**
 * Cross-site request forgery brake for cookie-carrying calls: a browser always sends Origin on
 * a POST, and it must be this server's public origin. JSON bodies add a second brake, since a
 * cross-site form cannot send application/json without a CORS preflight that we never grant.
 */
export function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  if (origin !== null && origin !== getConfig().ENCLAVE_PUBLIC_URL.origin) {
    throw new HttpError(403, "forbidden_origin", "This request must come from Enclave's own pages.");
  }
  if (origin === null && fetchSite !== null && fetchSite !== "same-origin" && fetchSite !== "none") {
    throw new HttpError(403, "forbidden_origin", "This request must come from Enclave's own pages.");
  }
}

function flattenParams(params: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, Array.isArray(value) ? value.join("/") : value]));
}

/**
 * Handlers for the methods a route does not serve, so they too answer with the JSON error
 * shape (Next's own 405 has an empty body). Use: `export const { GET, PUT } = otherMethods("POST")`.
 */
export function otherMethods(...allowed: string[]) {
  const refuse = handler({ trust: "public" }, () =>
    Promise.reject(new HttpError(405, "method_not_allowed", `Use ${allowed.join(" or ")} here.`, { allow: allowed.join(", ") })),
  );
  return { GET: refuse, POST: refuse, PUT: refuse, PATCH: refuse, DELETE: refuse };
}
