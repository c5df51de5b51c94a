import type { z } from "zod";
import { recordOperatorAuthRefusal } from "../access/denials";
import { resolveOperatorToken } from "../access/operator-token";
import { actorOf, assertNoTokenInQuery, bearerToken, principalLabel, type OperatorPrincipal } from "../access/principal";
import { auditControl, type Actor } from "../audit/audit";
import { getConfig } from "../config";
import { parseInput } from "../http/body";
import { isLocalRequest } from "../http/client-address";
import { HttpError, notFound } from "../http/errors";
import { limitOperatorCall, recordOperatorAuthFailure } from "../http/rate-limits";
import { getRequestContext, noteActor } from "../log/request-context";
import type { OperatorEndpoint } from "./endpoint";
import { handleRequest, type RouteContext } from "./route";

/**
 * The operator API's wrapper, in the order that keeps refusals cheap and uninformative:
 *   1. off this machine (ENCLAVE_OPERATOR_LOOPBACK_ONLY, the default) the API does not
 *      exist: the same 404 as any path no route claims, nothing audited;
 *   2. the per-IP brake, and the lockout of an IP that failed to authenticate too often (429);
 *   3. the operator token as `Authorization: Bearer`, and nothing else: no cookie is read, and
 *      a team token, an OAuth token or a session all get the one 401, which names no other
 *      kind; each refusal is counted for the lockout and audited within a budget;
 *   4. the query, then the handler; the call is audited as the endpoint's action, or when
 *      refused (400, 404) as `operator.refused` naming the action attempted and why.
 */
export type OperatorCtx<E extends OperatorEndpoint> = {
  params: Record<string, string>;
  query: E["query"] extends z.ZodType ? z.infer<E["query"]> : undefined;
  request: Request;
  actor: Actor;
  /** Adds figures to the call's audit row (never secrets: this row is read by whoever audits the operator). */
  note: (details: Record<string, unknown>) => void;
};

const refusal = () =>
  new HttpError(401, "unauthenticated", "This needs the operator token, as `Authorization: Bearer <token>`.", { "WWW-Authenticate": 'Bearer realm="operator"' });

async function operatorPrincipal(request: Request, ip: string): Promise<OperatorPrincipal> {
  assertNoTokenInQuery(request);
  const header = request.headers.get("authorization");
  const token = header === null ? null : bearerToken(header);
  const principal = token === null ? null : await resolveOperatorToken(token);
  if (principal) return principal;
  // A call without credentials guesses nothing; a presented token that fails is a guess.
  if (header !== null) await recordOperatorAuthFailure(ip);
  await recordOperatorAuthRefusal(header === null ? "missing" : token === null ? "malformed" : "invalid");
  throw refusal();
}

export function operatorRoute<const E extends OperatorEndpoint>(endpoint: E, fn: (ctx: OperatorCtx<E>) => Promise<z.input<E["response"]>>) {
  return (request: Request, routeContext?: RouteContext): Promise<Response> =>
    handleRequest(request, routeContext, async ({ params, ip }) => {
      if (getConfig().ENCLAVE_OPERATOR_LOOPBACK_ONLY && !isLocalRequest(getRequestContext())) throw notFound("No such API route.");
      await limitOperatorCall(ip);
      const principal = await operatorPrincipal(request, ip);
      noteActor(principalLabel(principal));
      const actor = actorOf(principal);
      // What the call was about, if it looks like an id or a job name: a junk path param is not worth a row's bytes.
      const named = params.userId ?? params.job ?? params.requestId;
      const target = named !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(named) ? named : null;
      const details: Record<string, unknown> = {};
      try {
        const query = endpoint.query ? parseInput(endpoint.query, Object.fromEntries(new URL(request.url).searchParams)) : undefined;
        const result = await fn({ params, query, request, actor, note: (more) => Object.assign(details, more) } as OperatorCtx<E>);
        if (!endpoint.auditsItself) await auditControl({ actor, action: endpoint.action, target, details });
        return Response.json(result, { headers: { "cache-control": "no-store" } });
      } catch (error) {
        if (error instanceof HttpError) await auditControl({ actor, action: "operator.refused", target, details: { attempted: endpoint.action, error: error.code, status: error.status } });
        throw error;
      }
    });
}
