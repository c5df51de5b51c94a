import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv-provider.js";
import type { WorkspaceGrant } from "../access/authorize";
import { logger } from "../log/logger";
import { registerKnowledgeResources } from "./resources";
import type { ToolCallLedger } from "./tool-audit";
import { registerTools } from "./tools";

const serverInfo = { name: "enclave", title: "Enclave", version: "0.1.0" };

// One validator for the process: the SDK's default builds a new Ajv (and recompiles every
// schema) for each server, which is each request here.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

const instructions =
  "Enclave is this team's shared memory. Search knowledge before answering from scratch, remember what the team will need again, and keep agent state in sessions (read its rev, write with that rev). Secrets are redacted when stored.";

/**
 * The MCP server for one request by one caller in one workspace: every tool and resource is
 * bound to `grant`, so nothing a client sends can point it at another workspace; each tool
 * call goes through authorizeWithin for its own scope (tool-kit.ts) and settles its outcome in
 * `ledger`, for its audit row (tool-audit.ts).
 */
export function createMcpServer(grant: WorkspaceGrant, ledger: ToolCallLedger): McpServer {
  // Declared up front so tools/list and resources/list answer (empty) even for a caller
  // whose scopes unlock none of them.
  const server = new McpServer(serverInfo, { capabilities: { tools: {}, resources: {} }, instructions, jsonSchemaValidator });
  registerTools(server, grant, ledger);
  registerKnowledgeResources(server, grant);
  // The SDK claims `listChanged` as soon as a tool or resource is registered, but this server
  // lives for one request and has no stream to send the notification on: the lists change only
  // between connections (a new grant, a changed role), which a client sees by listing again.
  server.server.registerCapabilities({ tools: { listChanged: false }, resources: { listChanged: false } });
  // Client faults the transport refuses (bad Accept, unknown protocol version) land here: not our errors.
  server.server.onerror = (error) => logger.warn({ err: error, workspace: grant.workspaceId }, "mcp protocol error");
  return server;
}
