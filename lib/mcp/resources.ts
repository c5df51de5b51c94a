import { McpError, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { authorizeWithin, grantCovers, type WorkspaceGrant } from "../access/authorize";
import { getRequestContext } from "../log/request-context";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";
import { getKnowledge, listKnowledge } from "../workspace/knowledge";
import { KNOWLEDGE_URI_PREFIX, knowledgeResourceScope, knowledgeUri } from "./tool-scopes";

// JSON-RPC codes: MCP's "resource not found", and the standard internal error.
const RESOURCE_NOT_FOUND = -32002;
const INTERNAL_ERROR = -32603;
const LISTED_ENTRIES = 50;

/** A knowledge entry as a resource: Markdown, its title as the heading. */
const asMarkdown = (title: string, body: string) => `# ${title}\n\n${body}`;

/**
 * Knowledge entries as MCP resources, `enclave://knowledge/{id}`, for clients that attach
 * context by resource rather than by tool call. Listed: the most recently changed entries.
 */
export function registerKnowledgeResources(server: McpServer, grant: WorkspaceGrant): void {
  if (!grantCovers(grant, knowledgeResourceScope)) return;
  const access = authorizeWithin(grant, knowledgeResourceScope);
  const template = new ResourceTemplate(`${KNOWLEDGE_URI_PREFIX}{id}`, {
    list: async () => {
      const { items } = await listKnowledge(access, { limit: LISTED_ENTRIES });
      return { resources: items.map((entry) => ({ uri: knowledgeUri(entry.id), name: entry.title, mimeType: "text/markdown" })) };
    },
  });
  server.registerResource(
    "knowledge",
    template,
    { title: "Knowledge entry", description: "A knowledge entry of this workspace, as Markdown", mimeType: "text/markdown" },
    async (uri, variables): Promise<ReadResourceResult> => {
      const id = String(variables.id);
      try {
        const entry = await getKnowledge(access, id);
        return { contents: [{ uri: uri.href, mimeType: "text/markdown", text: asMarkdown(entry.title, entry.body) }] };
      } catch (error) {
        if (error instanceof HttpError) throw new McpError(RESOURCE_NOT_FOUND, `${error.code}: ${error.message}`, { uri: uri.href });
        logger.error({ err: error, requestId: getRequestContext()?.requestId, workspace: access.workspaceId }, "mcp resource read failed");
        throw new McpError(INTERNAL_ERROR, "Something went wrong on our side.");
      }
    },
  );
}
