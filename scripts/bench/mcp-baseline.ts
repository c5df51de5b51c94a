/**
 * The peer baseline for `npm run bench:mcp`: a bare MCP SDK server — plain node:http, no
 * Next.js, no auth, no rate limit, no request log — with one `search` tool that runs the very
 * storage query Enclave's tool runs (`searchKnowledge` over the same SQLCipher workspace file,
 * opened by the same store in lib/db). What Enclave costs beyond this is its own: the token
 * check, authorization, Next's routing, logging and audit.
 *
 * Stateless like Enclave's endpoint: a new McpServer and transport per request, JSON responses.
 *
 * Run by the benchmark through ServerProcess (so it is stopped with its process group):
 *   ENCLAVE_DATA_DIR, ENCLAVE_MASTER_KEY, HOST, PORT, BENCH_WORKSPACE_ID
 * POST /mcp is the endpoint; GET /health answers 200 once the store is open.
 */
import http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { closeStore, getStore } from "../../lib/db/store";
import { authorize } from "../../lib/access/authorize";
import { OPERATOR } from "../../lib/access/principal";
import { searchKnowledge } from "../../lib/workspace/search";
import { searchResult, searchSchemas } from "./mcp-shape";

const workspaceId = process.env.BENCH_WORKSPACE_ID ?? "";
const port = Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";
if (!workspaceId || !Number.isInteger(port)) throw new Error("mcp-baseline needs BENCH_WORKSPACE_ID and PORT");

function mcpServer(): McpServer {
  const server = new McpServer({ name: "bench-baseline", version: "1.0.0" });
  server.registerTool(
    "search",
    { description: "Full-text search over the workspace's knowledge.", ...searchSchemas, annotations: { readOnlyHint: true } },
    async (args) => {
      // The SDK has parsed `args` with Enclave's input schema (query ≤ 500 chars, limit 1–50, default 10).
      const { query, limit } = args as { query: string; limit: number };
      return searchResult(await searchKnowledge(reader, { q: query, limit }));
    },
  );
  return server;
}

async function handleMcp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

// The control database opens (and is migrated) before the port answers, as in server.ts.
await getStore().control;
// Checked once, as the operator: the baseline measures storage and the SDK, not Enclave's auth.
const reader = await authorize(OPERATOR, workspaceId, "search");

const httpServer = http.createServer((req, res) => {
  const pathname = (req.url ?? "/").split("?")[0];
  if (pathname === "/health" && req.method === "GET") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    return;
  }
  if (pathname !== "/mcp" || req.method !== "POST") {
    res.writeHead(405, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }));
    return;
  }
  handleMcp(req, res).catch((error: unknown) => {
    console.error("mcp-baseline: request failed", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null }));
  });
});

httpServer.listen(port, host, () => console.log(`mcp-baseline listening on http://${host}:${port}/mcp`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    httpServer.close();
    // Checkpoint and release the workspace file before the next server opens it.
    void closeStore().finally(() => process.exit(0));
  });
}
