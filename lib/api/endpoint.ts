import type { z } from "zod";
import type { Scope } from "../access/scopes";
import type { AuditAction } from "../audit/audit";
import type { LimitName } from "../billing/plans";
import type { ApiLimitGroup } from "../http/rate-limits";

/**
 * Endpoints, each described once: its route handler is built from the description (see
 * route.ts; the machine router, lib/router, routes by the same entries), the OpenAPI document and
 * the input fuzz test are generated from the same lists, so none of them can drift from what the
 * server does.
 */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A REST endpoint under /api/v1, for team tokens (and the portal's cookie), bound to one workspace. */
export type Endpoint = {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI path under /api/v1, e.g. `/workspaces/{workspaceId}/knowledge/{id}`. */
  path: string;
  summary: string;
  scope: Scope;
  limit: ApiLimitGroup;
  /** The workspace plan's limit (lib/billing/limits.ts) this endpoint meets when billing is on: past it, a 402. */
  planLimit?: LimitName;
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

/**
 * One of the portal's own JSON endpoints (sign-in, account, workspaces, the consent answer):
 * `public` — anyone, state-changing calls still same-origin; `user` — a signed-in person.
 */
export type PortalEndpoint = {
  operationId: string;
  method: HttpMethod;
  /** The full path, e.g. `/api/account/clients/{grantId}`. */
  path: string;
  summary: string;
  trust: "public" | "user";
  /** `any`: a closing account's session is let through too (Cancel closure); by default it is refused (lib/auth/provider.ts). */
  accountStates?: "any";
  /**
   * Local sign-in only (passwords, TOTP, local sign-up, mailed links, local sessions): in Clerk mode the
   * endpoint does not exist and answers 404 before anything else (lib/api/route.ts), since
   * Clerk owns those there.
   */
  localAuthOnly?: true;
  body?: z.ZodType;
  query?: z.ZodType;
};

export const definePortalEndpoint = <const E extends PortalEndpoint>(endpoint: E): E => endpoint;

/**
 * An OAuth endpoint a client posts to: no session, CORS open to any origin, errors in RFC
 * 6749's shape beside ours. Registration takes JSON (its schema is the registration's own,
 * applied with RFC 7591's error codes); the token and revocation endpoints take forms.
 */
export type OAuthEndpoint = {
  operationId: string;
  method: "POST";
  path: string;
  summary: string;
  /** The brake, applied before the body is read: registration has its own, the others the sync budget. */
  limit: "registration" | "sync";
  body: { type: "json" | "form"; schema: z.ZodType };
};

/**
 * An operator API endpoint under /api/operator: the operator token only, loopback only by
 * default, every call audited as `action` (lib/api/operator-route.ts).
 */
export type OperatorEndpoint = {
  operationId: string;
  method: HttpMethod;
  /** The full path, e.g. `/api/operator/users/{userId}/suspend`. */
  path: string;
  summary: string;
  action: AuditAction;
  /** The handler writes the audit row itself, in the transaction of its change; the route audits only refusals. */
  auditsItself?: true;
  query?: z.ZodType;
  response: z.ZodType;
};

export const defineOperatorEndpoint = <const E extends OperatorEndpoint>(endpoint: E): E => endpoint;
