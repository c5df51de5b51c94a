import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { authorize, type WorkspaceAccess } from "../access/authorize";
import { resolvePrincipal, restSurface } from "../access/principal";
import { sessionFromCookies } from "../auth/provider";
import type { SignedIn } from "../auth/sessions";
import { parseInput, readJson } from "../http/body";
import { getConfig } from "../config";
import { errorResponse, HttpError, notFound } from "../http/errors";
import { storageFault } from "../db/storage-health";
import { assertSameOrigin, changesState } from "../http/origin";
import { limitApiCall } from "../http/rate-limits";
import { getRequestContext, noteActor } from "../log/request-context";
import { logger } from "../log/logger";
import type { Endpoint, PortalEndpoint } from "./endpoint";

/**
 * The route wrappers, one per kind of endpoint. Each turns a described endpoint and a
 * function into a Next route handler: the checks run in the order that keeps refusals cheap
 * and uninformative, and whatever is thrown becomes the one error shape.
 */
export type RouteContext = { params: Promise<Record<string, string | string[]>> };

export type BaseCtx = {
  request: Request;
  params: Record<string, string>;
  requestId: string;
  ip: string;
  userAgent: string | undefined;
};

/**
 * The part every route shares: a request id, the route params, and one error shape for
 * whatever `fn` throws. An HttpError becomes its status; anything else a 500 with no detail
 * beyond the request id.
 */
export async function handleRequest(request: Request, routeContext: RouteContext | undefined, fn: (base: BaseCtx) => Promise<Response>): Promise<Response> {
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
  } catch (thrown) {
    // The store has already turned its database's faults into HttpErrors; a plain file write that found the disk full (ENOSPC) becomes one here.
    const error = storageFault(thrown);
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

function flattenParams(params: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, Array.isArray(value) ? value.join("/") : value]));
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export type PortalCtx<E extends PortalEndpoint> = BaseCtx & { body: Infer<E["body"]>; query: Infer<E["query"]> } & (E["trust"] extends "user" ? { session: SignedIn } : object);

/** A portal endpoint: same-origin for anything but GET/HEAD, the session when `user`, then the query and body. */
export function portalRoute<const E extends PortalEndpoint>(endpoint: E, fn: (ctx: PortalCtx<E>) => Promise<Response>) {
  return (request: Request, routeContext?: RouteContext): Promise<Response> =>
    handleRequest(request, routeContext, async (base) => {
      if (endpoint.localAuthOnly && getConfig().ENCLAVE_AUTH_PROVIDER !== "local") throw notFound("There is no such endpoint: this Enclave signs people in with Clerk.");
      if (changesState(request)) assertSameOrigin(request);
      let auth = {};
      if (endpoint.trust === "user") {
        const session = await sessionFromCookies(request, endpoint.accountStates ?? "open");
        if (!session) throw new HttpError(401, "unauthenticated", "Sign in to continue.");
        noteActor(`user:${session.user.id}`);
        auth = { session };
      }
      const query = endpoint.query ? parseInput(endpoint.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
      const body = endpoint.body ? await readJson(request, endpoint.body) : undefined;
      return fn({ ...base, ...auth, body, query } as PortalCtx<E>);
    });
}

export type ApiCtx<E extends Endpoint> = {
  access: WorkspaceAccess<E["scope"]>;
  body: Infer<E["body"]>;
  query: Infer<E["query"]>;
  params: Record<string, string>;
  request: Request;
  requestId: string;
};

/**
 * What an endpoint's function returns: its documented response (the OpenAPI schema's input
 * side, so the type checker holds each handler to what the document promises), nothing for a
 * 204, or a Response it builds itself (bytes, an event stream).
 */
export type ApiResult<E extends Endpoint> = (E["response"] extends z.ZodType ? z.input<E["response"]> : void) | Response;

/**
 * A REST endpoint, in the order that keeps refusals cheap and uninformative: rate limit (per
 * IP, per endpoint) → who is calling (401) → may they, in this workspace (404 for a workspace
 * they cannot see, 403 naming the missing scope) → query and body (400/413/415) → the
 * handler. Nothing is read or written before all checks pass.
 */
export function apiRoute<E extends Endpoint>(endpoint: E, fn: (ctx: ApiCtx<E>) => Promise<ApiResult<E>>) {
  return (request: Request, routeContext?: RouteContext): Promise<Response> =>
    handleRequest(request, routeContext, async ({ params, ip, requestId }) => {
      await limitApiCall(endpoint.limit, endpoint.operationId, ip);
      const principal = await resolvePrincipal(request, restSurface);
      const access = await authorize(principal, params.workspaceId ?? "", endpoint.scope, endpoint.operationId);
      const query = endpoint.query ? parseInput(endpoint.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
      const body = endpoint.body ? await readJson(request, endpoint.body) : undefined;
      const result = await fn({ access, body, query, params, request, requestId } as ApiCtx<E>);
      if (result instanceof Response) return result;
      if (endpoint.status === 204) return new Response(null, { status: 204 });
      return Response.json(result, { status: endpoint.status ?? 200, headers: { "cache-control": "no-store" } });
    });
}

/**
 * Handlers for the methods a route does not serve, so they too answer with the JSON error
 * shape (Next's own 405 has an empty body). Use: `export const { GET, PUT } = otherMethods("POST")`.
 */
export function otherMethods(...allowed: string[]) {
  const refuse = (request: Request) =>
    handleRequest(request, undefined, () =>
      Promise.reject(new HttpError(405, "method_not_allowed", `Use ${allowed.join(" or ")} here.`, { allow: allowed.join(", ") })),
    );
  return { GET: refuse, POST: refuse, PUT: refuse, PATCH: refuse, DELETE: refuse };
}
