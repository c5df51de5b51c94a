import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { authorizeWithin, InsufficientScopeError, type WorkspaceAccess, type WorkspaceGrant } from "../access/authorize";
import type { Scope } from "../access/scopes";
import { getRequestContext } from "../log/request-context";
import { HttpError } from "../http/errors";
import { storageFault } from "../db/storage-health";
import { logger } from "../log/logger";
import { toolScopes, type ToolName } from "./tool-scopes";

/**
 * One MCP tool: its scope (from the one table), a zod input schema the SDK validates and
 * publishes as JSON Schema, an output schema for `structuredContent`, and `run`, which does
 * the work through the same lib/workspace functions the REST handlers call, so redaction,
 * audit and validation are identical on both surfaces.
 */
export type McpTool = {
  name: ToolName;
  scope: Scope;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  run: (access: WorkspaceAccess, args: unknown) => Promise<unknown>;
};

type ToolSpec<N extends ToolName, I extends z.ZodObject, O extends z.ZodObject> = Omit<McpTool, "name" | "scope" | "inputSchema" | "outputSchema" | "run"> & {
  name: N;
  inputSchema: I;
  outputSchema: O;
  /** Runs with proof that authorize() granted this tool's own scope (tool-scopes.ts). */
  run: (access: WorkspaceAccess<(typeof toolScopes)[N]>, args: z.output<I>) => Promise<z.input<O>>;
};

export function defineTool<N extends ToolName, I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<N, I, O>): McpTool {
  return {
    ...spec,
    scope: toolScopes[spec.name],
    // callTool hands over the access authorize() made for this tool's scope; the SDK has
    // parsed the arguments with `inputSchema` before calling the tool.
    run: (access, args) => spec.run(access as WorkspaceAccess<(typeof toolScopes)[N]>, args as z.output<I>),
  };
}

/**
 * A REST response schema (lib/api/schemas.ts) as a tool's output schema, so both surfaces
 * promise one shape. `.extend` makes a copy without the OpenAPI id, so the tool's JSON Schema
 * is written out in place rather than as `$ref`s into `definitions`.
 */
export const inlined = <T extends z.ZodObject>(schema: T, changes: z.ZodRawShape = {}) => schema.extend(changes);

export const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
export const writes: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };

/**
 * Runs a tool and shapes its answer. Failures a caller can act on (not found, a conflict, bad
 * input, too large) come back as a tool error (`isError`) with the same code and sentence the
 * REST API gives; anything else is logged and reported without detail, as a 500 would be.
 * `error` is that code, or null for a result: what the call's audit row says (tool-audit.ts).
 */
export async function callTool(tool: McpTool, grant: WorkspaceGrant, args: unknown): Promise<{ result: CallToolResult; error: string | null }> {
  let output: Record<string, unknown>;
  try {
    const access = authorizeWithin(grant, tool.scope, `tool:${tool.name}`);
    // Parsed through the output schema: unknown keys are dropped, so `structuredContent` is
    // exactly what the published schema (additionalProperties: false) promises.
    output = tool.outputSchema.parse(await tool.run(access, args));
  } catch (thrown) {
    const error = storageFault(thrown);
    if (error instanceof InsufficientScopeError) await error.recorded;
    if (error instanceof HttpError) return { result: toolError(`${error.code}: ${error.message}`), error: error.code };
    const requestId = getRequestContext()?.requestId;
    logger.error({ err: error, tool: tool.name, requestId, workspace: grant.workspaceId }, "mcp tool failed");
    return { result: toolError(`internal_error: Something went wrong on our side${requestId ? ` (request ${requestId})` : ""}.`), error: "internal_error" };
  }
  return { result: { content: [{ type: "text", text: JSON.stringify(output) }], structuredContent: output }, error: null };
}

export const toolError = (text: string): CallToolResult => ({ content: [{ type: "text", text }], isError: true });
