import { answerAccessRequest, listAccessRequests } from "../access/access-requests";
import { stillAuthorized } from "../access/authorize";
import { revokeInvitation, listInvitations } from "../access/invitations";
import { addMember, changeMemberRole, listMembers, removeMember } from "../access/members";
import { restSurface } from "../access/principal";
import { issueTeamToken, listTeamTokens, revokeTeamToken } from "../access/tokens";
import type { Endpoint, HttpMethod } from "../api/endpoint";
import { endpoints } from "../api/endpoints";
import { oauthEndpoints } from "../api/oauth-endpoints";
import { oauthEndpoint, oauthPreflight, oauthRoute } from "../api/oauth-route";
import { openApiDocument } from "../api/openapi";
import { operatorEndpoints } from "../api/operator-endpoints";
import { operatorRoute } from "../api/operator-route";
import { portalEndpoints } from "../api/portal-endpoints";
import { apiRoute, handleRequest, portalRoute, type ApiCtx, type ApiResult, type RouteContext } from "../api/route";
import { webhookEndpoints } from "../api/webhook-endpoints";
import { getConfig } from "../config";
import { getControlDb } from "../db/store";
import { healthReasons } from "../db/storage-health";
import { readBody } from "../http/body";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";
import { handleMcpPost, handleMcpPreflight, refuseMcpMethod } from "../mcp/endpoint";
import { authenticateClient, registerClient } from "../oauth/clients";
import { listConnectedClients, revokeConnectedClient, type ConnectedClient } from "../oauth/connected-clients";
import { oauthError } from "../oauth/errors";
import { exchangeAuthorizationCode, refreshAccessToken, revokeClientToken } from "../oauth/grants";
import { authorizationServerMetadata, protectedResourceMetadata } from "../oauth/metadata";
import { verifyEveryAuditChain } from "../operator/audit-verify";
import { runJobForOperator } from "../operator/jobs";
import { operatorStatus } from "../operator/status";
import { setSuspension } from "../operator/suspension";
import { listWorkspacesForOperator } from "../operator/workspaces";
import { securityTxt } from "../trust/security-txt";
import { receiveClerkWebhook } from "../webhooks/clerk";
import { receiveRazorpayWebhook } from "../webhooks/razorpay";
import { getAgentSession, listAgentSessions, putAgentSession } from "../workspace/agent-sessions";
import { artifactResponse, deleteArtifact, getArtifact, listArtifacts, parseArtifactName, parseContentType, putArtifact } from "../workspace/artifacts";
import { readWorkspaceAudit, workspaceChainStatus } from "../workspace/audit-trail";
import { openEventStream, resumeAfter } from "../workspace/event-stream";
import { listEvents, publishEvent } from "../workspace/events";
import { createKnowledge, deleteKnowledge, getKnowledge, listKnowledge, updateKnowledge } from "../workspace/knowledge";
import { createLink, neighbors } from "../workspace/links";
import { getRedactionSettings, setRedactionSettings } from "../workspace/redaction-settings";
import { searchKnowledge } from "../workspace/search";

/**
 * Every endpoint machines call — REST, OAuth, MCP, the operator API, webhooks, health and
 * discovery — as one list of (method, path, handler), built from the endpoint tables that also
 * write the OpenAPI document: each REST endpoint's handler is found by its operationId, so a
 * route is declared once, in its table. lib/router/machine-router.ts serves this list ahead of
 * Next; Next keeps the pages and the portal's own endpoints.
 */
export type MachineRoute = {
  method: HttpMethod | "OPTIONS";
  /** The full path, `{param}` for a segment, as in the tables. */
  path: string;
  handle: (request: Request, context: RouteContext) => Promise<Response>;
};

type RestHandlers = { [K in keyof typeof endpoints]: (ctx: ApiCtx<(typeof endpoints)[K]>) => Promise<ApiResult<(typeof endpoints)[K]>> };

// Field by field, so the API answers with what its schema documents and nothing a later column adds.
const clientView = (client: ConnectedClient) => ({
  grantId: client.grantId,
  clientId: client.clientId,
  clientName: client.clientName,
  userId: client.userId,
  workspaceId: client.workspaceId,
  scopes: client.scopes,
  createdAt: client.createdAt,
  lastUsedAt: client.lastUsedAt,
  redirectUri: client.redirectUri,
});

/** The REST API's handlers, by operationId: the type checker holds the list to the table, one for each. */
const restHandlers: RestHandlers = {
  listKnowledge: ({ access, query }) => listKnowledge(access, query),
  createKnowledge: ({ access, body }) => createKnowledge(access, body),
  getKnowledge: ({ access, params }) => getKnowledge(access, params.id ?? ""),
  updateKnowledge: ({ access, params, body }) => updateKnowledge(access, params.id ?? "", body),
  deleteKnowledge: ({ access, params }) => deleteKnowledge(access, params.id ?? ""),
  neighbors: async ({ access, params }) => ({ items: await neighbors(access, params.id ?? "") }),
  search: async ({ access, query }) => ({ results: await searchKnowledge(access, query) }),
  listSessions: async ({ access }) => ({ items: await listAgentSessions(access) }),
  getSession: ({ access, params }) => getAgentSession(access, params.name ?? ""),
  putSession: ({ access, params, body }) => putAgentSession(access, params.name ?? "", body),
  listEvents: ({ access, query }) => listEvents(access, query),
  publishEvent: ({ access, body }) => publishEvent(access, body),
  streamEvents: ({ access, request }) => {
    const stream = openEventStream({
      access,
      after: resumeAfter(request),
      signal: request.signal,
      stillAllowed: () => stillAuthorized(request, restSurface, access.workspaceId, endpoints.streamEvents.scope),
    });
    return Promise.resolve(new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" } }));
  },
  listArtifacts: async ({ access }) => ({ items: await listArtifacts(access) }),
  getArtifact: async ({ access, params }) => artifactResponse(await getArtifact(access, params.name ?? "")),
  putArtifact: async ({ access, params, request }) => {
    const name = parseArtifactName(params.name ?? "");
    const contentType = parseContentType(request.headers.get("content-type"));
    const bytes = await readBody(request, getConfig().ENCLAVE_ARTIFACT_MAX_BYTES);
    return putArtifact(access, name, contentType, bytes);
  },
  deleteArtifact: ({ access, params }) => deleteArtifact(access, params.name ?? ""),
  createLink: ({ access, body }) => createLink(access, body),
  listTokens: async ({ access }) => ({ items: await listTeamTokens(access) }),
  issueToken: ({ access, body }) => issueTeamToken(access, body),
  revokeToken: ({ access, params }) => revokeTeamToken(access, params.tokenId ?? ""),
  listClients: async ({ access }) => ({ items: (await listConnectedClients({ workspaceId: access.workspaceId })).map(clientView) }),
  // Scoped to the workspace the caller was authorized for: a grant id from elsewhere is a 404.
  revokeClient: ({ access, params }) => revokeConnectedClient({ workspaceId: access.workspaceId }, params.grantId ?? "", access.actor),
  listMembers: async ({ access }) => ({ items: await listMembers(access) }),
  addMember: ({ access, body }) => addMember(access, body),
  listInvitations: async ({ access }) => ({ items: await listInvitations(access) }),
  revokeInvitation: ({ access, params }) => revokeInvitation(access, params.invitationId ?? ""),
  changeMemberRole: ({ access, params, body }) => changeMemberRole(access, params.userId ?? "", body.role),
  removeMember: ({ access, params }) => removeMember(access, params.userId ?? ""),
  getRedactionSettings: ({ access }) => getRedactionSettings(access),
  listAudit: async ({ access, query }) => ({ ...(await readWorkspaceAudit(access, query)), chain: await workspaceChainStatus(access) }),
  putRedactionSettings: ({ access, body }) => setRedactionSettings(access, body),
};

const restRoutes: MachineRoute[] = Object.entries(endpoints).map(([operationId, endpoint]: [string, Endpoint]) => ({
  method: endpoint.method,
  path: `/api/v1${endpoint.path}`,
  // Each handler was checked against its own entry above; the loop only pairs them up again.
  handle: apiRoute(endpoint, restHandlers[operationId as keyof RestHandlers] as (ctx: ApiCtx<Endpoint>) => Promise<ApiResult<Endpoint>>),
}));

const oauthRoutes: MachineRoute[] = [
  {
    ...oauthEndpoints.registerClient,
    // RFC 7591 dynamic client registration: open, as MCP expects, and braked per IP.
    handle: oauthRoute(oauthEndpoints.registerClient, async ({ body }) => Response.json(await registerClient(body), { status: 201 })),
  },
  {
    ...oauthEndpoints.token,
    handle: oauthRoute(oauthEndpoints.token, async ({ request, body: form }) => {
      const grantType = form.grant_type;
      if (grantType !== "authorization_code" && grantType !== "refresh_token") {
        throw oauthError("unsupported_grant_type", "Only authorization_code and refresh_token are supported.");
      }
      const client = await authenticateClient(request, form);
      if (!client.grantTypes.includes(grantType)) throw oauthError("unauthorized_client", `This client did not register the ${grantType} grant.`);
      const tokens = grantType === "authorization_code" ? await exchangeAuthorizationCode(client, form) : await refreshAccessToken(client, form);
      return Response.json(tokens, { headers: { pragma: "no-cache" } });
    }),
  },
  {
    ...oauthEndpoints.revoke,
    // RFC 7009: 200 whether or not the token was known, so the answer reveals nothing.
    handle: oauthRoute(oauthEndpoints.revoke, async ({ request, body: form }) => {
      if (!form.token) throw oauthError("invalid_request", "Send the token to revoke.");
      const client = await authenticateClient(request, form);
      await revokeClientToken(client, form.token);
      return new Response(null, { status: 200 });
    }),
  },
  // Browser-based clients (MCP Inspector) preflight each one.
  ...Object.values(oauthEndpoints).map(({ path }) => ({ method: "OPTIONS" as const, path, handle: oauthPreflight("POST") })),
];

const ops = operatorEndpoints;
const operatorRoutes: MachineRoute[] = [
  { ...ops.operatorStatus, handle: operatorRoute(ops.operatorStatus, () => operatorStatus()) },
  {
    ...ops.operatorWorkspaces,
    handle: operatorRoute(ops.operatorWorkspaces, async ({ query, note }) => {
      const page = await listWorkspacesForOperator(query);
      note({ listed: page.items.length });
      return page;
    }),
  },
  {
    ...ops.operatorRunJob,
    handle: operatorRoute(ops.operatorRunJob, async ({ params, note }) => {
      const result = await runJobForOperator(params.job ?? "");
      note({ outcome: result.outcome });
      return result;
    }),
  },
  { ...ops.operatorSuspendUser, handle: operatorRoute(ops.operatorSuspendUser, ({ params, actor }) => setSuspension(params.userId ?? "", true, actor)) },
  { ...ops.operatorUnsuspendUser, handle: operatorRoute(ops.operatorUnsuspendUser, ({ params, actor }) => setSuspension(params.userId ?? "", false, actor)) },
  {
    ...ops.operatorListAccessRequests,
    handle: operatorRoute(ops.operatorListAccessRequests, async ({ query, note }) => {
      const items = await listAccessRequests(query.status);
      note({ status: query.status, count: items.length });
      return { items };
    }),
  },
  { ...ops.operatorApproveAccessRequest, handle: operatorRoute(ops.operatorApproveAccessRequest, ({ params, actor }) => answerAccessRequest(params.requestId ?? "", true, actor)) },
  { ...ops.operatorDeclineAccessRequest, handle: operatorRoute(ops.operatorDeclineAccessRequest, ({ params, actor }) => answerAccessRequest(params.requestId ?? "", false, actor)) },
  {
    ...ops.operatorVerifyAudit,
    handle: operatorRoute(ops.operatorVerifyAudit, async ({ note }) => {
      const report = await verifyEveryAuditChain();
      note({ ok: report.ok, chains: report.chains.length, broken: report.chains.filter((chain) => !chain.ok).length });
      return report;
    }),
  },
];

// Not portalRoute: the providers' servers send no Origin and no cookie; the signature is the only trust.
const receivers = { clerk: receiveClerkWebhook, razorpay: receiveRazorpayWebhook };
const webhookRoutes: MachineRoute[] = Object.values(webhookEndpoints).map((endpoint) => ({
  ...endpoint,
  handle: (request: Request) =>
    handleRequest(request, undefined, async ({ ip }) => {
      const outcome = await receivers[endpoint.provider](request, ip);
      return Response.json({ received: true, outcome: outcome.status }, { headers: { "cache-control": "no-store" } });
    }),
}));

const publicRoutes: MachineRoute[] = [
  {
    ...portalEndpoints.health,
    // Degraded is still 200: a load balancer that pulls a node on non-200 would also stop the
    // reads it still serves (a full disk refuses writes only; a damaged file, one workspace).
    handle: portalRoute(portalEndpoints.health, async () => {
      await getControlDb();
      const reasons = healthReasons();
      const body = reasons.length === 0 ? { status: "ok" } : { status: "degraded", reasons };
      return Response.json(body, { headers: { "cache-control": "no-store" } });
    }),
  },
  {
    ...portalEndpoints.openApi,
    handle: portalRoute(portalEndpoints.openApi, () =>
      Promise.resolve(Response.json(openApiDocument(getConfig().ENCLAVE_PUBLIC_URL.origin), { headers: { "cache-control": "no-cache" } })),
    ),
  },
];

// MCP's one endpoint: POST for JSON-RPC, OPTIONS for browsers' preflight, and our 405 for the
// stream (GET) and session (DELETE) methods a stateless server has not.
const mcpRoutes: MachineRoute[] = [
  { method: "POST", path: "/mcp", handle: handleMcpPost },
  { method: "OPTIONS", path: "/mcp", handle: handleMcpPreflight },
  ...(["GET", "DELETE", "PUT", "PATCH"] as const).map((method) => ({ method, path: "/mcp", handle: refuseMcpMethod })),
];

let securityTxtHinted = false;
const serveSecurityTxt = (request: Request) =>
  handleRequest(request, undefined, () => {
    const text = securityTxt(getConfig(), Date.now());
    if (text === null) {
      // Once per process: a scanner asking every minute should not fill the log.
      if (!securityTxtHinted) logger.warn("/.well-known/security.txt answers 404: set ENCLAVE_SECURITY_CONTACT (a mailto: or https: URL) to publish one");
      securityTxtHinted = true;
      return Promise.reject(new HttpError(404, "not_found", "This instance publishes no security contact."));
    }
    return Promise.resolve(new Response(text, { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=3600" } }));
  });

const discoveryDocument = (path: string, document: () => unknown): MachineRoute[] => [
  { method: "GET", path, handle: oauthEndpoint(() => Promise.resolve(Response.json(document()))) },
  { method: "OPTIONS", path, handle: oauthPreflight("GET") },
];

// RFC 9728 §3.1: the path-suffixed form (/mcp) is the canonical one; the root is for clients that ask there.
const discoveryRoutes: MachineRoute[] = [
  ...discoveryDocument("/.well-known/oauth-authorization-server", authorizationServerMetadata),
  ...discoveryDocument("/.well-known/oauth-protected-resource/mcp", protectedResourceMetadata),
  ...discoveryDocument("/.well-known/oauth-protected-resource", protectedResourceMetadata),
  { method: "GET", path: "/.well-known/security.txt", handle: serveSecurityTxt },
];

/** Any other /.well-known path (OpenID discovery, path-suffixed probes): a clean JSON 404 with CORS, so discovery clients move on. */
export const unknownDiscoveryPath: MachineRoute["handle"] = oauthEndpoint(() =>
  Promise.reject(new HttpError(404, "not_found", "Nothing here. Enclave publishes /.well-known/oauth-authorization-server and /.well-known/oauth-protected-resource/mcp.")),
);
export const discoveryPreflight = oauthPreflight("GET");

export const machineRoutes: readonly MachineRoute[] = [...restRoutes, ...oauthRoutes, ...operatorRoutes, ...webhookRoutes, ...publicRoutes, ...mcpRoutes, ...discoveryRoutes];
