import { z } from "zod";
import { scopeDescriptions } from "../access/scopes";
import type { Endpoint } from "./endpoint";
import { endpointList } from "./endpoints";
import { errorSchema } from "./schemas";

/**
 * The OpenAPI 3.1 document for /api/v1, generated from the same endpoint list and zod schemas
 * the handlers use. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits; named
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
  return refusals;
};

function operation(endpoint: Endpoint, components: Json): Json {
  const pathParams = [...endpoint.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } }));
  const queryParams = endpoint.query
    ? Object.entries((schemaOf(endpoint.query, "input", components).properties ?? {}) as Record<string, Json>).map(([name, schema]) => ({ name, in: "query", required: false, schema }))
    : [];
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
    parameters: [...pathParams, ...queryParams],
    ...(endpoint.body && { requestBody: { required: true, content: { "application/json": { schema: schemaOf(endpoint.body, "input", components) } } } }),
    ...(endpoint.rawBody && { requestBody: { required: true, content: { "*/*": { schema: { type: "string", format: "binary" } } } } }),
    responses: { [String(endpoint.status ?? 200)]: success, ...errorResponses(endpoint) },
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
  return {
    openapi: "3.1.0",
    info: { title: "Enclave REST API", version: "1", description: "Workspace knowledge, agent sessions, events, artifacts and links, for team tokens." },
    servers: [{ url: `${serverUrl}/api/v1` }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        teamToken: { type: "http", scheme: "bearer", description: "A team token (`enc_…`) issued by a workspace admin" },
        portalSession: { type: "apiKey", in: "cookie", name: "__Host-enclave_session", description: "The portal's session; state-changing calls must be same-origin" },
      },
    },
  };
}
