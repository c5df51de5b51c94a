import type { Scope } from "../access/scopes";

/**
 * Which scope each MCP tool needs: the one table the server factory (which tools a caller
 * sees), the request guard (403 step-up before a call runs) and the README read.
 */
export const toolScopes = {
  search: "search",
  get_knowledge: "search",
  remember: "knowledge",
  forget: "knowledge",
  link: "index",
  neighbors: "graph",
  get_session: "search",
  update_session: "sessionmutations",
  list_events: "events:read",
  publish_event: "events:publish",
  get_artifact: "search",
  put_artifact: "artifacts",
  audit_tail: "audit",
} as const satisfies Record<string, Scope>;

export type ToolName = keyof typeof toolScopes;

/** The scope a tool needs, or null for a name that is no tool of ours (the SDK answers those). */
export function scopeOfTool(name: string): Scope | null {
  return Object.hasOwn(toolScopes, name) ? toolScopes[name as ToolName] : null;
}

/** Knowledge entries as MCP resources: `enclave://knowledge/{id}`, readable with `search`. */
export const KNOWLEDGE_URI_PREFIX = "enclave://knowledge/";
export const knowledgeResourceScope = "search" satisfies Scope;
export const knowledgeUri = (id: string) => `${KNOWLEDGE_URI_PREFIX}${id}`;
