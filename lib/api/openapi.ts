import { z } from "zod";
import { scopeDescriptions } from "../access/scopes";
import { planLimitsSchema } from "../billing/plans";
import { getConfig } from "../config";
import type { Endpoint, OperatorEndpoint } from "./endpoint";
import { endpointList } from "./endpoints";
import { operatorEndpointList } from "./operator-endpoints";
import { errorSchema } from "./schemas";

/**
 * The OpenAPI 3.1 document for /api/v1 (and, under the tag `operator`, /api/operator),
 * generated from the same endpoint lists and zod schemas the handlers use. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits; named
 * schemas (`.meta({ id })`) land in components.schemas.
 */
type Json = Record<string, unknown>;

const refRoot = "#/components/schemas/";

function schemaOf(schema: z.ZodType, io: "input" | "output", components: Json): Json {
  const generated = JSON.stringify(z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }));
  // zod points named schemas at a local $defs; in OpenAPI they live in components.schemas.
  const { $defs, ...rest } = JSON.parse(generated.replaceAll('"#/$defs/', `"${refRoot}`)) as Json & { $defs?: Json };
  delete rest.$schema;
  Object.assign(components, $defs ?? {});
  return rest;
}

const errorRef = { $ref: `${refRoot}Error` };
/** PlanLimitError's body (lib/billing/limits.ts): the error shape and which limit, of which plan. */
const planLimitErrorSchema: Json = {
  allOf: [
    errorRef,
    {
      type: "object",
      required: ["plan", "limit", "allowed", "used"],
      properties: {
        plan: { type: "string", description: "The id of the plan in force" },
        limit: { type: "string", enum: Object.keys(planLimitsSchema.shape) },
        allowed: { type: "integer", description: "What the plan allows" },
        used: { type: "integer", description: "What the workspace has (storage: MB in use)" },
      },
    },
  ],
};
const errorResponses = (endpoint: Endpoint): Json => {
  const refusals: Json = {
    "400": { description: "Invalid input (fields named in fieldErrors), or a token in the URL" },
    "401": { description: "Missing, unknown, expired or revoked token" },
    "403": { description: `The caller lacks the \`${endpoint.scope}\` scope (or, for cookie calls, a foreign Origin)` },
    "404": { description: "No such workspace for this caller, or no such item" },
    "429": { description: "Rate limited (per IP, per endpoint); see Retry-After" },
  };
  if (endpoint.body || endpoint.rawBody) refusals["413"] = { description: "Body larger than the configured cap" };
  if (endpoint.body) refusals["415"] = { description: "Body is not application/json" };
  for (const value of Object.values(refusals)) (value as Json).content = { "application/json": { schema: errorRef } };
  // Only when billing is on: with it off no limit applies, and nothing about billing shows.
  if (endpoint.planLimit && getConfig().billing) {
    refusals["402"] = {
      description: `Billing on: this would pass the workspace plan's \`${endpoint.planLimit}\` limit (\`plan_limit\`); nothing was changed`,
      content: { "application/json": { schema: planLimitErrorSchema } },
    };
  }
  return refusals;
};

function parametersOf(endpoint: Pick<Endpoint, "path" | "query">, components: Json): Json[] {
  const pathParams = [...endpoint.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } }));
  const queryParams = endpoint.query
    ? Object.entries((schemaOf(endpoint.query, "input", components).properties ?? {}) as Record<string, Json>).map(([name, schema]) => ({ name, in: "query", required: false, schema }))
    : [];
  return [...pathParams, ...queryParams];
}

function operation(endpoint: Endpoint, components: Json): Json {
  const success: Json = endpoint.response
    ? { description: "OK", content: { "application/json": { schema: schemaOf(endpoint.response, "output", components) } } }
    : endpoint.rawResponse
      ? { description: "OK", content: { [endpoint.rawResponse]: {} } }
      : { description: "No content" };
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    description: `Needs the \`${endpoint.scope}\` scope (${scopeDescriptions[endpoint.scope]}).`,
    security: [{ teamToken: [endpoint.scope] }, { portalSession: [] }],
    "x-required-scope": endpoint.scope,
    parameters: parametersOf(endpoint, components),
    ...(endpoint.body && { requestBody: { required: true, content: { "application/json": { schema: schemaOf(endpoint.body, "input", components) } } } }),
    ...(endpoint.rawBody && { requestBody: { required: true, content: { "*/*": { schema: { type: "string", format: "binary" } } } } }),
    responses: { [String(endpoint.status ?? 200)]: success, ...errorResponses(endpoint) },
  };
}

const withErrorShape = (refusals: Record<string, string>): Json =>
  Object.fromEntries(Object.entries(refusals).map(([status, description]) => [status, { description, content: { "application/json": { schema: errorRef } } }]));

function operatorOperation(endpoint: OperatorEndpoint, components: Json): Json {
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    description: `The operator token only; audited as \`${endpoint.action}\`.`,
    tags: ["operator"],
    security: [{ operatorToken: [] }],
    parameters: parametersOf(endpoint, components),
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: schemaOf(endpoint.response, "output", components) } } },
      ...withErrorShape({
        "400": "Invalid input, or a token in the URL",
        "401": "Not the live operator token (whatever else was sent)",
        "404": "No such user or job; or the API called from another machine while ENCLAVE_OPERATOR_LOOPBACK_ONLY is on",
        "429": "Rate limited (per IP), or locked out after failed tokens; see Retry-After",
      }),
    },
  };
}

export function openApiDocument(serverUrl: string): Json {
  const components: Json = {};
  const error = schemaOf(errorSchema, "output", components);
  if (!("Error" in components)) components.Error = error;
  const paths: Record<string, Json> = {};
  for (const endpoint of endpointList) {
    (paths[endpoint.path] ??= {})[endpoint.method.toLowerCase()] = operation(endpoint, components);
  }
  // Keyed by their full path, with the server's root as their own server: they are not under /api/v1.
  for (const endpoint of operatorEndpointList) {
    (paths[endpoint.path] ??= { servers: [{ url: serverUrl }] })[endpoint.method.toLowerCase()] = operatorOperation(endpoint, components);
  }
  return {
    openapi: "3.1.0",
    info: { title: "Enclave REST API", version: "1", description: "Workspace knowledge, agent sessions, events, artifacts and links, for team tokens; and, tagged `operator`, the operator API." },
    servers: [{ url: `${serverUrl}/api/v1` }],
    tags: [{ name: "operator", description: "The operator API: the operator token (`enclave operator token`) only, from this machine only by default" }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        teamToken: { type: "http", scheme: "bearer", description: "A team token (`enc_…`) issued by a workspace admin" },
        portalSession: { type: "apiKey", in: "cookie", name: "__Host-enclave_session", description: "The portal's session; state-changing calls must be same-origin" },
        operatorToken: { type: "http", scheme: "bearer", description: "The operator token (`enc_op_…`), printed once by `enclave operator token`" },
      },
    },
  };
}
