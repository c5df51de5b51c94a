import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { appFetch, ORIGIN } from "./harness";

export const MCP_URL = `${ORIGIN}/mcp`;

/** The harness's fetch with `extraHeaders` on every request, keeping each response in `seen` for assertions. */
export function recordingFetch(extraHeaders: Record<string, string> = {}, seen: Response[] = []) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
    const response = await appFetch(url, { ...init, headers });
    seen.push(response.clone());
    return response;
  };
}

/** The real SDK client, connected (initialize + initialized) to /mcp with `token`. */
export async function connectClient(token: string, options: { headers?: Record<string, string>; seen?: Response[] } = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    fetch: recordingFetch(options.headers, options.seen),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "enclave-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** A tool call's structured result, failing the test with the tool's message if it was an error. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** A tool call expected to fail as a tool error: its text. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (!result.isError) throw new Error(`${name} succeeded: ${JSON.stringify(result.structuredContent)}`);
  return result.content.map((part) => (part.type === "text" ? part.text : "")).join("");
}

type PostOptions = { token?: string; headers?: Record<string, string>; query?: string; rawBody?: string; method?: string };

/** One raw HTTP request to /mcp, as a non-SDK client would send it (valid headers unless overridden; "" drops one). */
export function mcpRequest(body: unknown, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
    ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  for (const [name, value] of Object.entries(headers)) if (value === "") delete headers[name];
  const method = options.method ?? "POST";
  const hasBody = method === "POST";
  return appFetch(`${MCP_URL}${options.query ?? ""}`, {
    method,
    headers,
    body: hasBody ? (options.rawBody ?? JSON.stringify(body)) : undefined,
  });
}

export const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) => ({ jsonrpc: "2.0", id, method, params });
export const toolCall = (name: string, args: Record<string, unknown> = {}, id = 1) => rpc("tools/call", { name, arguments: args }, id);
