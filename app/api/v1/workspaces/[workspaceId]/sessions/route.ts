import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { listAgentSessions } from "@/lib/workspace/agent-sessions";

export const GET = apiRoute(endpoints.listSessions, async ({ access }) => ({ items: await listAgentSessions(access.workspaceId) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
