import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { DrillSample } from "./drill-prepare";

/**
 * The primary paths a restored instance must serve, each through HTTP as its clients use it:
 * a person signs in with a password and lists their workspaces (portal JSON), an agent's team
 * token searches, reads knowledge, an agent session, events and an artifact (REST), and an MCP
 * client lists tools and calls one (the MCP SDK over Streamable HTTP). Each check returns its
 * figures or throws, saying what answered wrong.
 */
export type SmokeCheck = { name: string; run: () => Promise<Record<string, number>> };

const REQUEST_TIMEOUT_MS = 30_000;

class SmokeError extends Error {
  override name = "SmokeError";
}

async function expectJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const body = await response.text();
  if (!response.ok) throw new SmokeError(`${what} answered ${response.status}: ${body.slice(0, 200)}`);
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new SmokeError(`${what} answered ${response.status} with no JSON`);
  }
}

const itemsOf = (body: Record<string, unknown>, key: string): unknown[] => {
  const items = body[key];
  if (!Array.isArray(items)) throw new SmokeError(`the answer has no "${key}" list`);
  return items;
};

export function smokeChecks(url: string, sample: DrillSample): SmokeCheck[] {
  let cookie = "";
  const api = (rest: string) => `${url}/api/v1/workspaces/${sample.workspaceId}${rest}`;
  const bearer = (target: string) => fetch(target, { headers: { authorization: `Bearer ${sample.token}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

  return [
    {
      name: "sign-in",
      run: async () => {
        const response = await fetch(`${url}/api/auth/sign-in`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: url },
          body: JSON.stringify({ email: sample.email, password: sample.password }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await expectJson(response, "POST /api/auth/sign-in");
        cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
        if (!cookie.includes("=")) throw new SmokeError("sign-in set no session cookie");
        return {};
      },
    },
    {
      name: "workspace list",
      run: async () => {
        const body = await expectJson(await fetch(`${url}/api/workspaces`, { headers: { cookie }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }), "GET /api/workspaces");
        const listed = itemsOf(body, "workspaces") as { id?: string }[];
        if (!listed.some((workspace) => workspace.id === sample.workspaceId)) throw new SmokeError(`the drill account's workspace list lacks ${sample.workspaceId}`);
        return { workspaces: listed.length, instanceWorkspaces: sample.workspaces };
      },
    },
    {
      name: "search",
      run: async () => {
        const query = new URLSearchParams({ q: sample.searchTerm ?? "" });
        const results = itemsOf(await expectJson(await bearer(api(`/search?${query}`)), "GET search"), "results") as { id?: string }[];
        if (sample.knowledgeId && sample.searchTerm && !results.some((hit) => hit.id === sample.knowledgeId)) {
          throw new SmokeError(`searching "${sample.searchTerm}" did not find ${sample.knowledgeId}: the full-text index does not match the entries`);
        }
        return { results: results.length };
      },
    },
    {
      name: "knowledge read",
      run: async () => {
        const list = itemsOf(await expectJson(await bearer(api("/knowledge")), "GET knowledge"), "items");
        if (!sample.knowledgeId) return { entries: list.length };
        const entry = await expectJson(await bearer(api(`/knowledge/${sample.knowledgeId}`)), `GET knowledge/${sample.knowledgeId}`);
        if (entry.id !== sample.knowledgeId) throw new SmokeError(`knowledge/${sample.knowledgeId} answered another entry`);
        return { entries: list.length, bodyChars: typeof entry.body === "string" ? entry.body.length : 0 };
      },
    },
    {
      name: "agent session",
      run: async () => {
        const list = itemsOf(await expectJson(await bearer(api("/sessions")), "GET sessions"), "items");
        if (!sample.sessionName) return { sessions: list.length };
        const session = await expectJson(await bearer(api(`/sessions/${encodeURIComponent(sample.sessionName)}`)), "GET sessions/{name}");
        return { sessions: list.length, rev: typeof session.rev === "number" ? session.rev : 0 };
      },
    },
    {
      name: "events",
      run: async () => {
        const items = itemsOf(await expectJson(await bearer(api("/events")), "GET events"), "items");
        if (sample.eventCount > 0 && items.length === 0) throw new SmokeError(`the backup holds ${sample.eventCount} events, the server listed none`);
        return { events: items.length };
      },
    },
    {
      name: "artifact download",
      run: async () => {
        const list = itemsOf(await expectJson(await bearer(api("/artifacts")), "GET artifacts"), "items");
        if (!sample.artifactName) return { artifacts: list.length };
        const response = await bearer(api(`/artifacts/${encodeURIComponent(sample.artifactName)}`));
        if (!response.ok) throw new SmokeError(`GET artifacts/{name} answered ${response.status}`);
        return { artifacts: list.length, bytes: (await response.arrayBuffer()).byteLength };
      },
    },
    {
      name: "mcp tools/list and a tool call",
      run: async () => {
        const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${sample.token}` } } });
        const client = new Client({ name: "enclave-restore-drill", version: "1.0.0" });
        await client.connect(transport);
        try {
          const { tools } = await client.listTools();
          if (!tools.some((tool) => tool.name === "search")) throw new SmokeError("tools/list has no search tool");
          const result = await client.callTool({ name: "search", arguments: { query: sample.searchTerm ?? "drill" } });
          if (result.isError) throw new SmokeError(`the search tool failed: ${JSON.stringify(result.content).slice(0, 200)}`);
          const hits = (result.structuredContent as { hits?: unknown[] } | undefined)?.hits ?? [];
          return { tools: tools.length, hits: hits.length };
        } finally {
          await client.close();
        }
      },
    },
  ];
}
