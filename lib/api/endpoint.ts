import type { z } from "zod";
import { authorize, type WorkspaceAccess } from "../access/authorize";
import { principalFromRequest } from "../access/principal";
import type { Scope } from "../access/scopes";
import { parseInput, readJson } from "../http/body";
import { handleRequest, type RouteContext } from "../http/handler";
import { limitApiCall, type ApiLimitGroup } from "../http/rate-limits";

/**
 * One REST endpoint, described once: the route handler is built from this description and the
 * OpenAPI document is generated from the same list, so the two cannot drift apart.
 */
export type Endpoint = {
  operationId: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI path under /api/v1, e.g. `/workspaces/{workspaceId}/knowledge/{id}`. */
  path: string;
  summary: string;
  scope: Scope;
  limit: ApiLimitGroup;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success body; null for 204. */
  response: z.ZodType | null;
  status?: 200 | 201 | 204;
  /** Non-JSON bodies (artifacts) or responses (artifact bytes, SSE) the handler reads or writes itself. */
  rawBody?: string;
  rawResponse?: string;
};

export const defineEndpoint = <const E extends Endpoint>(endpoint: E): E => endpoint;

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export type ApiCtx<E extends Endpoint> = {
  access: WorkspaceAccess;
  body: Infer<E["body"]>;
  query: Infer<E["query"]>;
  params: Record<string, string>;
  request: Request;
  requestId: string;
};

/**
 * The REST route wrapper, in the order that keeps refusals cheap and uninformative:
 * rate limit (per IP, per endpoint) → who is calling (401) → may they, in this workspace
 * (404 for a workspace they cannot see, 403 naming the missing scope) → query and body
 * (400/413/415) → the handler. Nothing is read or written before all checks pass.
 */
export function apiRoute<E extends Endpoint>(endpoint: E, fn: (ctx: ApiCtx<E>) => Promise<unknown>) {
  return (request: Request, routeContext?: RouteContext): Promise<Response> =>
    handleRequest(request, routeContext, async ({ params, ip, requestId }) => {
      await limitApiCall(endpoint.limit, endpoint.operationId, ip);
      const principal = await principalFromRequest(request);
      const access = await authorize(principal, params.workspaceId ?? "", endpoint.scope);
      const query = endpoint.query ? parseInput(endpoint.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
      const body = endpoint.body ? await readJson(request, endpoint.body) : undefined;
      const result = await fn({ access, body, query, params, request, requestId } as ApiCtx<E>);
      if (result instanceof Response) return result;
      if (endpoint.status === 204) return new Response(null, { status: 204 });
      return Response.json(result, { status: endpoint.status ?? 200, headers: { "cache-control": "no-store" } });
    });
}
