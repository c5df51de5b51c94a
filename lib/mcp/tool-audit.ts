import type { RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { WorkspaceGrant } from "../access/authorize";
import { auditToolCalls, type ToolCallOutcome } from "../workspace/audit-records";
import { scopeOfTool } from "./tool-scopes";

/**
 * Every `tools/call` in a request becomes one `mcp.tool_call` row (lib/workspace/audit-records.ts):
 * the tool, its arguments as the client sent them (redacted and capped), and how it ended. The
 * calls are read from the request body, not from the tools, so a call the SDK refused before
 * any tool ran (arguments that fail the input schema, a tool we do not have) is recorded too;
 * `callTool` settles the ones that ran. A call refused for its scope never gets here: the
 * request guard answers 403 and authorize() records `access.denied` instead.
 *
 * A write made through a tool thus has two rows with one request id: the write's own (in the
 * write's transaction, the same row a REST write leaves, so a filter on `knowledge.create`
 * finds both surfaces) and this one (the call as asked, with its outcome).
 */
export class ToolCallLedger {
  private readonly settled = new Map<RequestId, string | null>();

  /** `error`: the code the tool answered with, or null for a result. */
  settle(id: RequestId, error: string | null): void {
    this.settled.set(id, error);
  }

  /** The tools/call messages of `body` (one message or a batch), each with its outcome. */
  outcomesOf(body: unknown): ToolCallOutcome[] {
    return (Array.isArray(body) ? body : [body]).flatMap((message): ToolCallOutcome[] => {
      if (!isToolCall(message)) return [];
      const { name, arguments: args } = typeof message.params === "object" && message.params !== null ? message.params : {};
      const known = typeof name === "string" && scopeOfTool(name) !== null;
      // Never settled: refused by the SDK before the tool ran (input schema, unknown tool).
      const error = this.settled.has(message.id) ? (this.settled.get(message.id) ?? null) : known ? "not_run" : "unknown_tool";
      return [{ tool: typeof name === "string" ? name : "(no name)", known, arguments: args, error }];
    });
  }
}

type ToolCallMessage = { id: RequestId; method: "tools/call"; params?: { name?: unknown; arguments?: unknown } };

// A notification (no id) is no call: the server answers it with nothing and runs nothing.
function isToolCall(message: unknown): message is ToolCallMessage {
  if (typeof message !== "object" || message === null) return false;
  const { method, id } = message as Record<string, unknown>;
  return method === "tools/call" && (typeof id === "string" || typeof id === "number");
}

export const recordToolCalls = (grant: WorkspaceGrant, body: unknown, ledger: ToolCallLedger) => auditToolCalls(grant, ledger.outcomesOf(body));
