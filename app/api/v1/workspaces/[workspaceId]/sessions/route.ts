import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { listAgentSessions } from "@/lib/workspace/agent-sessions";

export const GET = apiRoute(endpoints.listSessions, async ({ access }) => ({ items: await listAgentSessions(access) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
