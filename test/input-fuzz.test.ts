import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { accessRequests, sessions } from "@/db/control/schema";
import { authorize } from "@/lib/access/authorize";
import { createInvitation } from "@/lib/access/invitations";
import { issueTeamToken } from "@/lib/access/tokens";
import { issueOperatorToken } from "@/lib/access/operator-token";
import { oauthEndpointList } from "@/lib/api/oauth-endpoints";
import { operatorEndpointList } from "@/lib/api/operator-endpoints";
import { portalEndpointList } from "@/lib/api/portal-endpoints";
import { webhookEndpointList } from "@/lib/api/webhook-endpoints";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { createSession } from "@/lib/auth/sessions";
import { hashSecret } from "@/lib/crypto/secrets";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { putAgentSession } from "@/lib/workspace/agent-sessions";
import { putArtifact } from "@/lib/workspace/artifacts";
import { auditHeads, liveGrant, refusalRows, sessionCookieForUser, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, routeTable } from "./harness";
import { useTempStore } from "./store";

/**
 * Bad bytes into every field of every operation, driven by what the server publishes about
 * itself — /api/v1/openapi.json, the portal's endpoint table, and the MCP tools' own input
 * schemas from tools/list — so an endpoint added to any of them is fuzzed without editing this
 * file. Each field in turn gets an unpaired surrogate, a NUL, a 1 MB string, 200 levels of
 * nesting and every wrong JSON type, on top of an otherwise valid request. Every answer must be
 * a 4xx in the JSON error shape (MCP: a tool error or a JSON-RPC error), never a 5xx; nothing
 * may change in the workspace, and no file may appear in the data dir. The valid request itself
 * is sent last and must succeed, which proves the mutations were refused for their own sake.
 */
const store = useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "1000000", ENCLAVE_ADMIN_RATE_LIMIT_PER_MINUTE: "1000000" });

type Json = Record<string, unknown>;
/** `type`: the JSON Schema type this value is, so it is skipped for a field of that type (where it could be valid). */
type Mutation = { label: string; value: unknown; type?: string };

const deep = (levels: number): unknown => {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

/** A form field is text: what no text may hold (an unpaired surrogate cannot even be written in one), and too much of it. */
const FORM_MUTATIONS: Mutation[] = [
  { label: "a NUL", value: "a\u0000b" },
  { label: "20 KB", value: "a".repeat(20 * 1024) },
  { label: "the UTF-8 of a lone surrogate", value: "\ud800" },
];

/** What each field gets, in turn. */
const MUTATIONS: Mutation[] = [
  { label: "an unpaired high surrogate", value: "x\ud800y" },
  { label: "an unpaired low surrogate", value: "\udc00" },
  { label: "a NUL", value: "a\u0000b" },
  { label: "a 1 MB string", value: "a".repeat(1024 * 1024) },
  { label: "200 levels of nesting", value: deep(200) },
  { label: "a number", value: 42, type: "number" },
  { label: "a boolean", value: true, type: "boolean" },
  { label: "null", value: null, type: "null" },
  { label: "an object", value: { nested: "object" }, type: "object" },
  { label: "an array", value: ["array"], type: "array" },
];

/** For a field that takes any JSON value (session state, event payloads): only what no JSON value may hold. */
const ANY_JSON_MUTATIONS = MUTATIONS.slice(0, 5);

// ---- a valid example of a JSON Schema value, for the field names the fixture knows ----

type Fixture = Awaited<ReturnType<typeof makeFixture>>;
type Hints = Record<string, () => unknown>;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

function resolveRef(schema: Json, components: Json): Json {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace("#/components/schemas/", "");
  return { ...(components[name] as Json), ...schema, $ref: undefined };
}

/** A field that takes any JSON value: no `type`, no choices (zod's z.json() publishes a recursive anyOf). */
function takesAnyJson(schema: Json, components: Json): boolean {
  const resolved = resolveRef(schema, components);
  if (resolved.type === undefined && resolved.enum === undefined && resolved.properties === undefined && resolved.const === undefined) {
    const options = (resolved.anyOf ?? resolved.oneOf) as Json[] | undefined;
    return options === undefined || options.length >= 6;
  }
  return false;
}

function example(schema: Json, name: string, hints: Hints, components: Json): unknown {
  const hint = hints[name];
  if (hint) return hint();
  const resolved = resolveRef(schema, components);
  if (takesAnyJson(resolved, components)) return { note: "fuzzed" };
  if (resolved.default !== undefined) return resolved.default;
  const options = (resolved.anyOf ?? resolved.oneOf) as Json[] | undefined;
  if (options) return example(options.find((option) => option.type !== "null") ?? options[0]!, name, hints, components);
  if (Array.isArray(resolved.enum)) return resolved.enum[0];
  if (resolved.const !== undefined) return resolved.const;
  switch (resolved.type) {
    case "string": {
      if (resolved.pattern !== undefined) throw new Error(`no example for "${name}" (pattern ${JSON.stringify(resolved.pattern)}): give the fixture a hint`);
      if (resolved.format === "email") return `${unique("fuzz")}@example.com`;
      const min = Number(resolved.minLength ?? 1);
      return "fuzz text".padEnd(min, "x").slice(0, Math.max(min, Math.min(9, Number(resolved.maxLength ?? 9))));
    }
    case "integer":
    case "number":
      return Number(resolved.minimum ?? (resolved.exclusiveMinimum !== undefined ? Number(resolved.exclusiveMinimum) + 1 : 1));
    case "boolean":
      return true;
    case "array":
      return Number(resolved.minItems ?? 0) > 0 ? [example(resolved.items as Json, name, hints, components)] : [];
    case "object": {
      const out: Json = {};
      for (const key of (resolved.required as string[] | undefined) ?? []) {
        out[key] = example(((resolved.properties as Json)[key] as Json) ?? {}, key, hints, components);
      }
      return out;
    }
    default:
      return { note: "fuzzed" };
  }
}

/** The JSON types a field accepts (integer counts as number). */
function typesOf(schema: Json, components: Json): Set<string> {
  const resolved = resolveRef(schema, components);
  const options = (resolved.anyOf ?? resolved.oneOf) as Json[] | undefined;
  if (options) return new Set(options.flatMap((option) => [...typesOf(option, components)]));
  const type = resolved.type === "integer" ? "number" : resolved.type;
  return new Set(typeof type === "string" ? [type] : Array.isArray(resolved.enum) ? [typeof resolved.enum[0]] : []);
}

/** Every property path of an object schema (nested objects and one array item included), with its schema. */
function fieldsOf(schema: Json, components: Json, prefix: string[] = []): { path: string[]; schema: Json }[] {
  const resolved = resolveRef(schema, components);
  if (resolved.type !== "object" || !resolved.properties) return [];
  return Object.entries(resolved.properties as Record<string, Json>).flatMap(([key, child]) => {
    const path = [...prefix, key];
    const inner = resolveRef(child, components);
    const nested = inner.type === "array" && (inner.items as Json | undefined)?.type === "object" ? fieldsOf(inner.items as Json, components, [...path, "0"]) : fieldsOf(inner, components, path);
    return [{ path, schema: child }, ...nested];
  });
}

function withField(base: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(base) as Json;
  let at: Json = copy;
  for (const key of path.slice(0, -1)) {
    at[key] ??= /^\d+$/.test(path[path.indexOf(key) + 1] ?? "") ? [{}] : {};
    at = at[key] as Json;
  }
  at[path.at(-1)!] = value;
  return copy;
}

// ---- the world the requests act on ----

async function makeFixture() {
  const ws = await workspaceWithTokens();
  const owner = { kind: "user" as const, userId: ws.owner.id };
  const write = await authorize(owner, ws.workspaceId, "knowledge");
  const entry = async () => (await createKnowledge(write, { title: "fuzz target", body: "body", tags: [] })).entry.id;
  const [entryId, otherEntry] = [await entry(), await entry()];
  await putAgentSession(await authorize(owner, ws.workspaceId, "sessionmutations"), "existing", { rev: 0, state: {} });
  const artifacts = await authorize(owner, ws.workspaceId, "artifacts");
  await putArtifact(artifacts, "existing", "text/plain", Buffer.from("bytes"));
  const ownerCookie = await sessionCookieForUser(ws.owner.id);
  // The account export asks for a password re-entered in this session within ten minutes.
  await (await getControlDb()).db.update(sessions).set({ reauthAt: Date.now() }).where(eq(sessions.userId, ws.owner.id));
  const tokens = await authorize(owner, ws.workspaceId, "tokens");
  const members = await authorize(owner, ws.workspaceId, "members");
  const operator = await issueOperatorToken({ type: "system", id: "cli" });
  return {
    ...ws,
    ownerCookie,
    operatorToken: operator.token,
    ownerEmail: ws.owner.email,
    /** Path params by name: what exists, made afresh where the valid request consumes it. */
    params: {
      workspaceId: () => Promise.resolve(ws.workspaceId),
      id: entry,
      tokenId: async () => (await issueTeamToken(tokens, { name: "doomed", role: "viewer", expiresInDays: 1 })).summary.id,
      grantId: () => liveGrant(ws, "Fuzz agent"),
      userId: async () => (await userInWorkspace(ws.workspaceId, "viewer")).user.id,
      job: () => Promise.resolve("expired-sessions"),
      sessionId: () => ownerSessionToEnd(ws.owner.id),
      invitationId: async () => (await createInvitation(members, `${unique("invitee")}@example.com`, "viewer")).invitation.id,
      requestId: async () => {
        const id = unique("acr");
        await (await getControlDb()).db.insert(accessRequests).values({ id, email: `${id}@example.com`, createdAt: Date.now() });
        return id;
      },
    } as Record<string, () => Promise<string>>,
    hints: {
      from: () => entryId,
      to: () => otherEntry,
      id: () => entryId,
      relation: () => "refs",
      type: () => "build.done",
      name: () => unique("fuzz"),
      rev: () => 0,
      role: () => "viewer",
      email: () => `${unique("fuzz")}@example.com`,
      redirect_uris: () => ["https://app.example.com/callback"],
      content: () => "artifact text",
      // Billing (off in this run): a plan id and a Checkout answer of the right shapes.
      planId: () => "team",
      razorpay_payment_id: () => "pay_FuzzPayment0001",
      razorpay_subscription_id: () => "sub_FuzzSubscript01",
      razorpay_signature: () => "0".repeat(64),
    } as Hints,
  };
}

/** Another session of the owner, for the valid "sign out this session" (the fixture's own cookie must live on). */
async function ownerSessionToEnd(userId: string): Promise<string> {
  const { token } = await createSession(userId);
  const control = await getControlDb();
  const [row] = await control.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.tokenHash, hashSecret(token)));
  return row!.id;
}

/** What every file in the data dir is, WAL and shared-memory files aside (they come and go with open handles). */
function dataFiles(): string[] {
  return fs
    .readdirSync(store.dataDir(), { recursive: true, encoding: "utf8" })
    .filter((name) => !/-(wal|shm|journal)$/.test(name))
    .sort();
}

async function expectRefusal(response: Response, label: string): Promise<void> {
  expect(response.status, `${label}: ${response.status}`).toBeGreaterThanOrEqual(400);
  expect(response.status, `${label}: answered ${response.status}`).toBeLessThan(500);
  expect(response.headers.get("content-type"), label).toMatch(/^application\/json/);
  const body = await jsonOf<{ error?: unknown; message?: unknown; requestId?: unknown }>(response);
  expect(typeof body.error, `${label}: ${JSON.stringify(body).slice(0, 200)}`).toBe("string");
  expect(typeof body.message, label).toBe("string");
  expect(typeof body.requestId, label).toBe("string");
}

// ---- the operations ----

type Operation = {
  label: string;
  path: string;
  method: string;
  /** Sends the request with `body` (undefined: none) and `query`. */
  auth: { cookie?: string; token?: string };
  bodySchema?: Json;
  querySchema?: { name: string; schema: Json }[];
  /** The status the valid request answers when it cannot be made valid from its schema alone. */
  baseStatus?: number;
  base?: Json;
  /** The query of the valid request, kept while each query field in turn is fuzzed. */
  baseQuery?: Record<string, string>;
  /** The body goes as application/x-www-form-urlencoded (OAuth's token and revocation endpoints). */
  form?: boolean;
};

let fx: Fixture;
let openApi: { paths: Record<string, Record<string, Json>>; components: { schemas: Json } };

async function setUp() {
  fx = await makeFixture();
  openApi = await jsonOf(await request("/api/v1/openapi.json"));
}

/**
 * Values for a path's `{params}`, made once per operation before anything is measured: what
 * exists for a read or a change, something fresh for a deletion.
 */
async function paramsFor(template: string, method: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [, param] of template.matchAll(/\{(\w+)\}/g)) {
    if (param === "name") values[param] = method === "DELETE" ? await artifactToDelete() : method === "GET" ? "existing" : unique("fuzz-name");
    else if (param === "id") values[param] = method === "DELETE" ? await fx.params.id!() : fx.hints.id!() as string;
    else values[param!] = await fx.params[param!]!();
  }
  return values;
}

/** The path with its params filled (`raw` puts one param's value on the wire as it is, unencoded). */
function fillPath(template: string, values: Record<string, string>, raw?: { param: string; value: string }): string {
  return template.replace(/\{(\w+)\}/g, (_match, param: string) => (raw && raw.param === param ? raw.value : encodeURIComponent(values[param] ?? "")));
}

async function artifactToDelete(): Promise<string> {
  const name = unique("doomed");
  await putArtifact(await authorize({ kind: "user", userId: fx.owner.id }, fx.workspaceId, "artifacts"), name, "text/plain", Buffer.from("x"));
  return name;
}

/** The operations /api/v1/openapi.json lists, as the workspace owner's same-origin portal calls. */
function restOperations(): Operation[] {
  return Object.entries(openApi.paths).filter(([path]) => !isOperatorPath(path)).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const parameters = (operation.parameters as { name: string; in: string; schema: Json }[]).filter((p) => p.in === "query");
      const body = (operation.requestBody as { content?: Record<string, { schema: Json }> } | undefined)?.content?.["application/json"]?.schema;
      return {
        label: `${method.toUpperCase()} /api/v1${path}`,
        path: `/api/v1${path}`,
        method: method.toUpperCase(),
        auth: {},
        bodySchema: body,
        querySchema: parameters.map(({ name, schema }) => ({ name, schema })),
        base: operationBases[operation.operationId as string],
      };
    }),
  );
}

/** The operator API's paths sit in the same document, keyed by their full path (they are not under /api/v1). */
const isOperatorPath = (path: string) => path.startsWith("/api/operator/");

/** The operator API, from its table, with the operator token. */
function operatorOperations(): Operation[] {
  return operatorEndpointList.map((endpoint) => ({
    label: `${endpoint.method} ${endpoint.path}`,
    path: endpoint.path,
    method: endpoint.method,
    auth: { token: fx.operatorToken },
    querySchema:
      "query" in endpoint
        ? Object.entries((z.toJSONSchema(endpoint.query, { io: "input", unrepresentable: "any" }) as { properties: Record<string, Json> }).properties).map(([name, schema]) => ({ name, schema }))
        : undefined,
  }));
}

/** Valid requests the schema alone cannot describe (a refine, a cross-field rule). */
const operationBases: Record<string, Json> = {
  issueToken: { name: "fuzz", role: "viewer" },
  updateKnowledge: { title: "renamed" },
  addMember: {},
};

/** The portal's own JSON endpoints, from their table. */
function portalOperations(): Operation[] {
  return portalEndpointList.map((endpoint) => ({
    label: `${endpoint.method} ${endpoint.path}`,
    path: endpoint.path,
    method: endpoint.method,
    auth: {},
    bodySchema: "body" in endpoint ? (z.toJSONSchema(endpoint.body, { io: "input", unrepresentable: "any" }) as Json) : undefined,
    querySchema:
      "query" in endpoint
        ? Object.entries((z.toJSONSchema(endpoint.query, { io: "input", unrepresentable: "any" }) as { properties: Record<string, Json> }).properties).map(([name, schema]) => ({ name, schema }))
        : undefined,
    baseQuery: portalBaseQueries[endpoint.operationId],
    baseStatus: portalBaseStatus[endpoint.operationId],
  }));
}

/** Portal queries a schema cannot make valid alone (fields checked against each other and the clock). */
const today = new Date().toISOString().slice(0, 10);
const portalBaseQueries: Record<string, Record<string, string>> = {
  auditEvidence: { from: today, to: today },
};

/** The OAuth endpoints clients post to, from their table. */
function oauthOperations(): Operation[] {
  return oauthEndpointList.map((endpoint) => ({
    label: `${endpoint.method} ${endpoint.path}`,
    path: endpoint.path,
    method: endpoint.method,
    auth: {},
    bodySchema: z.toJSONSchema(endpoint.body.schema, { io: "input", unrepresentable: "any" }),
    form: endpoint.body.type === "form",
    // A grant needs a code or refresh token the schema cannot invent: refused in OAuth's words.
    baseStatus: endpoint.body.type === "form" ? 400 : 201,
  }));
}

/** Portal requests whose valid form needs state a schema cannot carry; their status is what the unmutated request answers. */
const portalBaseStatus: Record<string, number> = {
  // A code that matches no authenticator.
  confirmMfa: 400,
  disableMfa: 400,
  // The consent answer carries a live authorization request and its form token (test/oauth.ts makes real ones).
  decideConsent: 400,
  // Owner-only acts on the fixture's workspace, which the rest of the run still needs, and the
  // owner's own account: each refused for the one reason a schema-only request carries.
  transferWorkspace: 404, // a user id that is no member
  deleteWorkspace: 400, // a confirmName that is not the workspace's name
  restoreWorkspace: 404, // a workspace that is not deleted
  closeAccount: 401, // a password that is not the owner's
  cancelClosure: 409, // an account that is not closing
  changePassword: 401, // a current password that is not the owner's
  // The fuzz instance sends no mail, and a made-up token opens nothing.
  forgotPassword: 409,
  resendEmailVerification: 409,
  resetPassword: 400,
  verifyEmail: 400,
  acceptInvitation: 404, // a token that names no invitation
  requestAccess: 409, // sign-up is open in this run (loopback), so there is nothing to request
  // Billing is off in this run (no Razorpay keys): its endpoints do not exist (test/billing-checkout.test.ts covers them on).
  billingOverview: 404,
  subscribe: 404,
  verifyCheckout: 404,
  cancelSubscription: 404,
  resumeSubscription: 404,
};

async function send(op: Operation, path: string, body: unknown, query: Record<string, string> = {}): Promise<Response> {
  // Fresh brakes for every request: each must reach the checks under test, not a 429.
  resetRateLimits();
  if (op.form) {
    const form = typeof body === "object" && body !== null ? new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])) : String(body);
    return request(path, { method: op.method, rawBody: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  }
  const signedIn = op.path.startsWith("/api/v1/") || !["/api/health", "/api/auth/sign-in", "/api/auth/sign-up", "/api/auth/sign-out", "/oauth/register"].includes(op.path);
  return request(path, {
    method: op.method,
    ...(op.auth.token !== undefined ? { token: op.auth.token } : signedIn ? { cookie: fx.ownerCookie } : {}),
    ...(body === undefined ? {} : { body }),
    query,
    ...(op.method === "PUT" && op.path.includes("/artifacts/") ? { rawBody: "artifact bytes", headers: { "content-type": "text/plain" } } : {}),
  });
}

function baseBody(op: Operation): unknown {
  if (!op.bodySchema) return undefined;
  const generated = example(op.bodySchema, "", fx.hints, openApi.components.schemas) as Json;
  if (op.path === "/api/auth/sign-in") return { email: fx.ownerEmail, password: "correct horse battery" };
  if (op.path === "/api/account/reauth") return { password: "correct horse battery" };
  // Optional in the schema (Clerk mode confirms by a recent sign-in), required in local mode: a wrong one is the base.
  if (op.path === "/api/account/close") return { ...(generated as object), password: "not the owner's password" };
  if (op.path.endsWith("/members") && op.method === "POST") return { ...generated, email: memberToAdd };
  return { ...generated, ...op.base };
}
let memberToAdd = "";

async function fuzzOperation(op: Operation): Promise<number> {
  let sent = 0;
  if (op.path.endsWith("/members") && op.method === "POST") memberToAdd = (await userInWorkspace("", null)).user.email;
  const values = await paramsFor(op.path, op.method);
  const path = fillPath(op.path, values);
  const before = { files: dataFiles(), workspace: await snapshotWorkspace(fx.workspaceId) };
  const base = baseBody(op);
  const components = openApi.components.schemas;

  if (op.bodySchema) {
    // The whole body replaced, then each field in turn.
    for (const mutation of [...MUTATIONS, { label: "a bare string", value: "body" }]) {
      await expectRefusal(await send(op, path, mutation.value), `${op.label}: the body as ${mutation.label}`);
      sent += 1;
    }
    for (const field of fieldsOf(op.bodySchema, components)) {
      const accepted = typesOf(field.schema, components);
      const mutations = op.form
        ? FORM_MUTATIONS
        : takesAnyJson(field.schema, components)
          ? ANY_JSON_MUTATIONS
          : MUTATIONS.filter((mutation) => !mutation.type || !accepted.has(mutation.type));
      for (const mutation of mutations) {
        await expectRefusal(await send(op, path, withField(base, field.path, mutation.value)), `${op.label}: ${field.path.join(".")} as ${mutation.label}`);
        sent += 1;
      }
    }
  }
  for (const { name } of op.querySchema ?? []) {
    for (const value of ["\u0000", "x".repeat(10_000), "-1", "NaN", "1e309"]) {
      const response = await send(op, path, base, { ...op.baseQuery, [name]: value });
      // A query string cannot carry an unpaired surrogate, and a wrong type may be a valid string: never a 5xx.
      if (response.status >= 400) await expectRefusal(response, `${op.label}: ?${name}=${value.slice(0, 10)}`);
      else expect(response.status, `${op.label}: ?${name}`).toBeLessThan(300);
      sent += 1;
    }
  }
  for (const [, param] of op.path.matchAll(/\{(\w+)\}/g)) {
    // Raw, as on the wire: a NUL, a byte that is no UTF-8, the UTF-8 of a lone surrogate, a traversal, a huge id.
    for (const value of ["%00", "%FF", "%ED%A0%80", "..%2F..%2Fetc", "a".repeat(5000)]) {
      await expectRefusal(await send(op, fillPath(op.path, values, { param: param!, value }), base), `${op.label}: {${param}} = ${value.slice(0, 12)}`);
      sent += 1;
    }
  }
  expect(dataFiles(), `${op.label}: a refused request left a file`).toEqual(before.files);
  expect(await snapshotWorkspace(fx.workspaceId), `${op.label}: a refused request changed the workspace`).toBe(before.workspace);

  // Last, the valid request: it must do what it says, or answer the one status a schema-only request can get.
  const response = await send(op, path, base, op.baseQuery);
  const expected = op.baseStatus;
  if (expected !== undefined) expect(response.status, `${op.label}: the valid request`).toBe(expected);
  else if (response.status >= 300) throw new Error(`${op.label}: the valid request answered ${response.status}: ${await response.text()}`);
  // An event stream stays open until its reader goes.
  await response.body?.cancel();
  return sent + 1;
}

describe("the fuzzed tables describe every route", () => {
  it("each method a route serves is in the OpenAPI document (REST and operator), the portal table or the OAuth table (or is a metadata GET, the API catch-all or /mcp)", async () => {
    await setUp();
    const described = new Set([
      ...Object.entries(openApi.paths).filter(([path]) => !isOperatorPath(path)).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} /api/v1${path}`)),
      ...Object.entries(openApi.paths).filter(([path]) => isOperatorPath(path)).flatMap(([path, methods]) => Object.keys(methods).filter((key) => key !== "servers").map((method) => `${method.toUpperCase()} ${path}`)),
      ...portalEndpointList.map((e) => `${e.method} ${e.path}`),
      ...oauthEndpointList.map((e) => `${e.method} ${e.path}`),
      // Signed webhooks: fuzzed with forged and tampered deliveries in their own tests (test/clerk-webhooks.test.ts).
      ...webhookEndpointList.map((e) => `${e.method} ${e.path}`),
    ]);
    const outside = (template: string, method: string) => template.startsWith("/.well-known/") ? method === "GET" : template === "/api/{...path}" || template === "/mcp";
    const undescribed: string[] = [];
    for (const { template, load } of routeTable()) {
      const module = await load();
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
        const handler = module[method];
        if (!handler || described.has(`${method} ${template}`) || outside(template, method)) continue;
        // A method a route refuses for every caller (otherMethods) serves nothing to fuzz.
        const answer = await handler(new Request(`http://localhost:3000${template}`, { method }), { params: Promise.resolve({}) });
        if (answer.status !== 405) undescribed.push(`${method} ${template} (answered ${answer.status})`);
      }
    }
    expect(undescribed).toEqual([]);
  });
});

describe("bad input into every field of every operation is a 4xx and changes nothing", () => {
  it.each([
    ["every /api/v1 operation in the OpenAPI document", restOperations, 300],
    ["every portal endpoint in its table", portalOperations, 100],
    ["every OAuth endpoint in its table (JSON registration, form grants and revocation)", oauthOperations, 50],
    ["every operator endpoint in the OpenAPI document, with the operator token", operatorOperations, 25],
  ] as const)("%s", { timeout: 600_000 }, async (_name, operations, atLeast) => {
    await setUp();
    let sent = 0;
    for (const op of operations()) sent += await fuzzOperation(op);
    expect(sent).toBeGreaterThan(atLeast);
  });

  it("every MCP tool, from the input schemas tools/list publishes", { timeout: 600_000 }, async () => {
    await setUp();
    const rpc = (method: string, params: Json) => request("/mcp", { token: fx.admin, body: { jsonrpc: "2.0", id: 1, method, params }, headers: { accept: "application/json, text/event-stream" } });
    const listed = await jsonOf<{ result: { tools: { name: string; inputSchema: Json }[] } }>(await rpc("tools/list", {}));
    expect(listed.result.tools.length).toBeGreaterThan(10);
    const before = { files: dataFiles(), workspace: await snapshotWorkspace(fx.workspaceId) };
    const heads = await auditHeads(fx.workspaceId);
    let reachedMcp = 0;
    /** A refused call: our 4xx (the body reader's rules), or the SDK's or the tool's error — never a result, never an internal error. */
    const expectToolRefusal = async (response: Response, label: string) => {
      if (response.status !== 200) return expectRefusal(response, label);
      reachedMcp += 1;
      const body = await jsonOf<{ result?: { isError?: boolean; content?: { text: string }[] }; error?: { message: string } }>(response);
      expect(body.error !== undefined || body.result?.isError === true, `${label}: ${JSON.stringify(body).slice(0, 200)}`).toBe(true);
      expect(JSON.stringify(body), label).not.toContain("internal_error");
    };
    let sent = 0;
    for (const tool of listed.result.tools) {
      const base = { ...(example(tool.inputSchema, "", fx.hints, {}) as Json), ...toolBases[tool.name] };
      // Arguments are an object: one with unknown keys is a valid call to a tool whose fields are all optional.
      for (const mutation of MUTATIONS.filter((m) => m.type !== "object")) {
        await expectToolRefusal(await rpc("tools/call", { name: tool.name, arguments: mutation.value }), `${tool.name}: the arguments as ${mutation.label}`);
        sent += 1;
      }
      for (const field of fieldsOf(tool.inputSchema, {})) {
        const accepted = typesOf(field.schema, {});
        const mutations = takesAnyJson(field.schema, {}) ? ANY_JSON_MUTATIONS : MUTATIONS.filter((mutation) => !mutation.type || !accepted.has(mutation.type));
        for (const mutation of mutations) {
          await expectToolRefusal(await rpc("tools/call", { name: tool.name, arguments: withField(base, field.path, mutation.value) }), `${tool.name}: ${field.path.join(".")} as ${mutation.label}`);
          sent += 1;
        }
      }
      expect(dataFiles(), `${tool.name}: a refused call left a file`).toEqual(before.files);
      expect(await snapshotWorkspace(fx.workspaceId), `${tool.name}: a refused call changed the workspace`).toBe(before.workspace);
    }
    // Each refused call that reached MCP is one tool-call row saying it failed, and none says otherwise.
    const calls = (await refusalRows(fx.workspaceId, heads)).workspace;
    expect(calls.length).toBe(reachedMcp);
    expect(calls.filter((row) => row.action !== "mcp.tool_call" || row.details.outcome !== "error")).toEqual([]);
    // The valid calls, last: each answers a result (forget at the very end, since it deletes what the others read).
    for (const tool of [...listed.result.tools].sort((a, b) => Number(a.name === "forget") - Number(b.name === "forget"))) {
      const base = { ...(example(tool.inputSchema, "", fx.hints, {}) as Json), ...toolBases[tool.name] };
      const body = await jsonOf<{ result?: { isError?: boolean; content?: unknown } }>(await rpc("tools/call", { name: tool.name, arguments: base }));
      expect(body.result?.isError, `${tool.name}: the valid call: ${JSON.stringify(body).slice(0, 300)}`).toBeFalsy();
    }
    expect(sent).toBeGreaterThan(300);
  });
});

/** Valid tool calls a schema alone cannot describe (which existing thing, a cross-field rule). */
const toolBases: Record<string, Json> = {
  remember: { title: "fuzzed", body: "text" },
  get_session: { name: "existing" },
  update_session: { name: "fuzzed-session", rev: 0, state: {} },
  get_artifact: { name: "existing" },
  put_artifact: { name: "fuzzed-artifact", content: "text" },
};
