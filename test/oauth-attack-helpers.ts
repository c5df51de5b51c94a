import { createHash, randomBytes } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { expect } from "vitest";
import { oauthGrants, oauthTokens, type Role } from "@/db/control/schema";
import { controlAuditLog, type AuditAction } from "@/lib/audit/audit";
import { sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb } from "@/lib/db/store";
import { resolveOAuthAccessToken } from "@/lib/access/bearer";
import * as decision from "@/app/oauth/authorize/decision/route";
import { userInWorkspace, workspaceWithTokens } from "./api";
import { ORIGIN } from "./harness";
import { consent, redirectParams, tokenRequest } from "./oauth";
import { appFetch } from "./harness";

/**
 * Shared set-up for the tests that attack the authorization server: a registered client, an
 * authorization URL built field by field, a code obtained through consent, and readers for
 * what the server stored (grants, tokens, audit rows) so a test can show nothing was granted.
 */
export const MCP_URL = `${ORIGIN}/mcp`;
export const WEB_CALLBACK = "https://app.example.com/cb";

type Form = Record<string, string | null>;

export type RegisteredClient = {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method: "none" | "client_secret_post" | "client_secret_basic";
};

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** POST /oauth/register with `metadata` as JSON (or `rawBody` as sent). */
export function register(metadata: unknown, options: { rawBody?: string; headers?: Record<string, string>; ip?: string } = {}): Promise<Response> {
  return appFetch(`${ORIGIN}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: options.rawBody ?? JSON.stringify(metadata),
    ip: options.ip,
  });
}

export async function registeredClient(overrides: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const response = await register({
    client_name: "Attack target",
    redirect_uris: [WEB_CALLBACK],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...overrides,
  });
  expect(response.status).toBe(201);
  return (await response.json()) as RegisteredClient;
}

/** An /oauth/authorize URL: a well-formed request for `clientId`, with `params` changed (null drops one). */
export function authorizeUrl(clientId: string, challenge: string, params: Form = {}): URL {
  const url = new URL(`${ORIGIN}/oauth/authorize`);
  const all: Form = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: WEB_CALLBACK,
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource: MCP_URL,
    scope: "search knowledge offline_access",
    state: "st-1",
    ...params,
  };
  for (const [name, value] of Object.entries(all)) if (value !== null) url.searchParams.set(name, value);
  return url;
}

/** Form fields and headers by which `client` proves who it is at the token or revocation endpoint. */
export function clientCredentials(client: RegisteredClient): { form: Form; headers: Record<string, string> } {
  if (client.token_endpoint_auth_method === "client_secret_basic") return { form: {}, headers: { authorization: basicAuth(client.client_id, client.client_secret ?? "") } };
  if (client.token_endpoint_auth_method === "client_secret_post") return { form: { client_id: client.client_id, client_secret: client.client_secret ?? null }, headers: {} };
  return { form: { client_id: client.client_id }, headers: {} };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

const dropNulls = (form: Form): Record<string, string> =>
  Object.fromEntries(Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== null));

/** A token-endpoint call as `client`, with `form` on top of its credentials (null drops a field). */
export function tokenCall(client: RegisteredClient, form: Form, headers: Record<string, string> = {}): Promise<Response> {
  const credentials = clientCredentials(client);
  return tokenRequest(dropNulls({ ...credentials.form, ...form }), { ...credentials.headers, ...headers });
}

export function revokeCall(client: RegisteredClient, form: Form, headers: Record<string, string> = {}): Promise<Response> {
  const credentials = clientCredentials(client);
  return appFetch(`${ORIGIN}/oauth/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...credentials.headers, ...headers },
    body: new URLSearchParams(dropNulls({ ...credentials.form, ...form })).toString(),
  });
}

export type Authorized = {
  workspaceId: string;
  userId: string;
  cookie: string;
  client: RegisteredClient;
  verifier: string;
  code: string;
  redirectUri: string;
};

/**
 * A person with `role` in a new workspace approves a registered client: the code is in hand,
 * not yet redeemed.
 */
export async function authorized(options: { role?: Role; scope?: string; scopes?: string[]; client?: Record<string, unknown> } = {}): Promise<Authorized> {
  const { workspaceId } = await workspaceWithTokens();
  const { user, cookie } = await userInWorkspace(workspaceId, options.role ?? "member");
  const client = await registeredClient(options.client);
  const { verifier, challenge } = pkce();
  const redirectUri = client.redirect_uris[0] ?? WEB_CALLBACK;
  const url = authorizeUrl(client.client_id, challenge, { redirect_uri: redirectUri, ...(options.scope ? { scope: options.scope } : {}) });
  const back = await redirectParams(await consent(url, cookie, { workspaceId, scopes: options.scopes }));
  const code = back.get("code");
  if (!code) throw new Error(`no code in ${back.toString()}`);
  return { workspaceId, userId: user.id, cookie, client, verifier, code, redirectUri };
}

export type Tokens = { access_token: string; refresh_token?: string; scope: string; token_type: string; expires_in: number };

export function redeem(fx: Authorized, form: Form = {}, client = fx.client): Promise<Response> {
  return tokenCall(client, { grant_type: "authorization_code", code: fx.code, code_verifier: fx.verifier, redirect_uri: fx.redirectUri, resource: MCP_URL, ...form });
}

/** Authorized and redeemed: a client holding live tokens. */
export async function connected(options: Parameters<typeof authorized>[0] = {}): Promise<Authorized & { tokens: Tokens }> {
  const fx = await authorized(options);
  const response = await redeem(fx);
  expect(response.status).toBe(200);
  return { ...fx, tokens: (await response.json()) as Tokens };
}

export function refresh(client: RegisteredClient, refreshToken: string, form: Form = {}): Promise<Response> {
  return tokenCall(client, { grant_type: "refresh_token", refresh_token: refreshToken, ...form });
}

/** The status and RFC 6749 error code of a refusal. */
export async function refusal(response: Response): Promise<{ status: number; error: unknown }> {
  const body = (await response.json()) as { error?: unknown };
  return { status: response.status, error: body.error };
}

export const principalOf = (accessToken: string) => resolveOAuthAccessToken(accessToken, MCP_URL);

/** Whether `refreshToken` can still be redeemed. Note: redeeming it rotates it (or, if it was used, is reuse). */
export async function refreshWorks(client: RegisteredClient, refreshToken: string): Promise<boolean> {
  return (await refresh(client, refreshToken)).status === 200;
}

export async function grantFor(token: string) {
  const control = await getControlDb();
  const [row] = await control.db
    .select({ grant: oauthGrants })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .where(eq(oauthTokens.tokenHash, sha256Hex(token)));
  return row?.grant ?? null;
}

export async function grantCount(): Promise<number> {
  const control = await getControlDb();
  return (await control.db.select({ id: oauthGrants.id }).from(oauthGrants)).length;
}

export async function auditRows(action?: AuditAction) {
  const control = await getControlDb();
  const rows = await control.db.select().from(controlAuditLog).orderBy(asc(controlAuditLog.seq));
  return action ? rows.filter((row) => row.action === action) : rows;
}

/** Every row of every control.db table, as JSON text: what a stolen, decrypted database would show. */
export async function controlTablesText(): Promise<string> {
  const control = await getControlDb();
  const tables = await control.rows("SELECT name FROM sqlite_master WHERE type = 'table'");
  const rows: string[] = [];
  for (const { name } of tables) for (const row of await control.rows(`SELECT * FROM "${String(name)}"`)) rows.push(JSON.stringify(row));
  return rows.join("\n");
}

/** POST /oauth/authorize/decision exactly as given: for forged or replayed consent answers. */
export function postDecision(body: unknown, options: { cookie?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return decision.POST(
    new Request(`${ORIGIN}/oauth/authorize/decision`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json", ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
      body: JSON.stringify(body),
    }),
  );
}
