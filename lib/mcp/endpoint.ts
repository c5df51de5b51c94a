import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";
import type { WorkspaceGrant } from "../access/authorize";
import { assertNoTokenInQuery } from "../access/principal";
import { readJson } from "../http/body";
import { corsPreflight, withCors } from "../http/cors";
import { HttpError } from "../http/errors";
import { handleRequest } from "../api/route";
import { limitApiCall } from "../http/rate-limits";
import {
  mcpGrant,
  assertAllowedOrigin,
  assertPublicHost,
  assertProtocolVersion,
  assertScopesFor,
  isAllowedOrigin,
} from "./request-guard";
import { createMcpServer } from "./server";
import { recordToolCalls, ToolCallLedger } from "./tool-audit";

/**
 * /mcp, the MCP Streamable HTTP endpoint, stateless: every POST gets a fresh server and
 * transport bound to the caller's access, answers with one JSON body, and both are closed
 * before the response leaves. No sessions, no SSE stream, so nothing outlives a request and
 * a token revoked between two calls is refused on the second.
 */

/** What a browser's preflight may ask for; GET and DELETE are listed so clients get our 405, not a CORS failure. */
const PREFLIGHT_METHODS = ["POST", "GET", "DELETE", "OPTIONS"];
const SERVED_METHODS = "POST, OPTIONS";

/** Every answer to an allowed browser origin carries CORS headers, refusals too, so its client can read the challenge. */
function withMcpCors(request: Request, response: Response): Response {
  const origin = request.headers.get("origin");
  return origin !== null && isAllowedOrigin(origin) ? withCors(response, origin) : response;
}

function noStore(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("cache-control", "no-store");
  return new Response(response.body, { status: response.status, headers });
}

/** Answers the body's messages, then records its tool calls (tool-audit.ts) before the answer leaves. */
async function answerWithMcp(grant: WorkspaceGrant, request: Request, parsedBody: unknown): Promise<Response> {
  const ledger = new ToolCallLedger();
  const server = createMcpServer(grant, ledger);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    // JSON response mode: this resolves once every request in the body has its answer.
    return await transport.handleRequest(request, { parsedBody });
  } finally {
    await transport.close();
    await server.close();
    await recordToolCalls(grant, parsedBody, ledger);
  }
}

/**
 * POST /mcp. In the order that keeps refusals cheap and uninformative: the host and origin
 * (DNS rebinding), a token in the URL, the rate brake, who is calling (401), the protocol
 * version, the body (413/415/400), the scope each call needs (403 step-up), then MCP.
 */
export async function handleMcpPost(request: Request): Promise<Response> {
  const response = await handleRequest(request, undefined, async ({ ip }) => {
    assertPublicHost(request);
    assertAllowedOrigin(request);
    assertNoTokenInQuery(request);
    await limitApiCall("sync", "mcp", ip);
    const grant = await mcpGrant(request);
    assertProtocolVersion(request);
    const body = await readJson(request, z.unknown());
    await assertScopesFor(body, grant);
    return noStore(await answerWithMcp(grant, request, body));
  });
  return withMcpCors(request, response);
}

/** OPTIONS /mcp: the CORS preflight, granted only to allowed origins. */
export function handleMcpPreflight(request: Request): Promise<Response> {
  return handleRequest(request, undefined, () => {
    assertPublicHost(request);
    assertAllowedOrigin(request);
    const origin = request.headers.get("origin");
    return Promise.resolve(origin === null ? new Response(null, { status: 204, headers: { allow: SERVED_METHODS } }) : corsPreflight(origin, PREFLIGHT_METHODS));
  });
}

/** GET (an SSE stream) and DELETE (ending a session): a stateless server has neither. */
export async function refuseMcpMethod(request: Request): Promise<Response> {
  const response = await handleRequest(request, undefined, () => {
    assertPublicHost(request);
    assertAllowedOrigin(request);
    throw new HttpError(405, "method_not_allowed", "This MCP server is stateless: it opens no event stream and keeps no session. POST JSON-RPC messages to /mcp.", {
      allow: SERVED_METHODS,
    });
  });
  return withMcpCors(request, response);
}
