/**
 * What the benchmark's `search` call looks like on the wire, for both servers: the tool's
 * schemas, the result the baseline returns (the same shape as Enclave's tool), the JSON-RPC
 * request body, and how a response is checked.
 */
import { LATEST_PROTOCOL_VERSION, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { mcpTools } from "../../lib/mcp/tools";
import { knowledgeUri } from "../../lib/mcp/tool-scopes";
import type { SearchHit } from "../../lib/workspace/search";

// Enclave's own tool definition, for its schemas only (its `run` needs a caller's access): the
// baseline publishes and validates exactly the same input and output.
const enclaveSearch = mcpTools.find((tool) => tool.name === "search");
if (!enclaveSearch) throw new Error("lib/mcp/tools has no search tool");
export const searchSchemas = { inputSchema: enclaveSearch.inputSchema, outputSchema: enclaveSearch.outputSchema };

/**
 * The result Enclave's tool gives for the same hits (lib/mcp/knowledge-tools.ts: a uri per hit,
 * the snippet as text with matches in **bold**; lib/mcp/tool-kit.ts: the output as JSON text and
 * as structuredContent), so both servers serialize the same bytes.
 */
export function searchResult(hits: SearchHit[]): CallToolResult {
  const output = {
    hits: hits.map((hit) => ({
      ...hit,
      uri: knowledgeUri(hit.id),
      snippet: hit.snippet.map((part) => (part.match ? `**${part.text}**` : part.text)).join(""),
    })),
  };
  return { content: [{ type: "text", text: JSON.stringify(output) }], structuredContent: output };
}

export const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
};

export function searchCall(query: string, limit: number, id = 1): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "search", arguments: { query, limit } } });
}

/** Hits in one response body, or why it is not a successful search result. */
export function hitsIn(body: string): { hits: number } | { error: string } {
  let message: { result?: CallToolResult; error?: { code: number; message: string } };
  try {
    message = JSON.parse(body) as typeof message;
  } catch {
    return { error: `not JSON: ${body.slice(0, 200)}` };
  }
  if (message.error) return { error: `JSON-RPC error ${message.error.code}: ${message.error.message}` };
  const result = message.result;
  if (!result) return { error: `no result: ${body.slice(0, 200)}` };
  const text = result.content.find((part) => part.type === "text")?.text ?? "";
  if (result.isError) return { error: `tool error: ${text.slice(0, 200)}` };
  const structured = result.structuredContent as { hits?: unknown[] } | undefined;
  if (Array.isArray(structured?.hits)) return { hits: structured.hits.length };
  return { error: `no structuredContent.hits in: ${body.slice(0, 200)}` };
}

/**
 * The per-response check during a run, kept to two substring tests so it costs the load
 * generator (the same for both servers) next to nothing: a JSON-RPC result, not an error,
 * and not a tool error (`"isError":true` could appear inside the hits only escaped, as \").
 */
export function looksLikeResult(body: string | Buffer | undefined): boolean {
  const text = String(body ?? "");
  return text.includes('"result":') && !text.includes('"isError":true');
}
