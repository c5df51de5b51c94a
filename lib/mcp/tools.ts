import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { grantCovers, type WorkspaceGrant } from "../access/authorize";
import { knowledgeTools } from "./knowledge-tools";
import type { ToolCallLedger } from "./tool-audit";
import { callTool, type McpTool } from "./tool-kit";
import { workspaceTools } from "./workspace-tools";

export { toolScopes, type ToolName } from "./tool-scopes";

/** Every MCP tool Enclave offers; a caller sees those whose scope it holds. */
export const mcpTools: readonly McpTool[] = [...knowledgeTools, ...workspaceTools];

/**
 * Registers the tools `grant` may call, and no others: tools/list shows a viewer only the
 * read tools. (A call to a tool it lacks the scope for never gets here: the request guard
 * answers it with a 403 step-up challenge first.)
 */
export function registerTools(server: McpServer, grant: WorkspaceGrant, ledger: ToolCallLedger): void {
  for (const tool of mcpTools) {
    if (!grantCovers(grant, tool.scope)) continue;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
        _meta: { "enclave/scope": tool.scope },
      },
      async (args: unknown, extra) => {
        const { result, error } = await callTool(tool, grant, args);
        ledger.settle(extra.requestId, error);
        return result;
      },
    );
  }
}
