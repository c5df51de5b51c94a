import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { getAgentSession, putAgentSession } from "@/lib/workspace/agent-sessions";

export const GET = apiRoute(endpoints.getSession, ({ access, params }) => getAgentSession(access, params.name ?? ""));
export const PUT = apiRoute(endpoints.putSession, ({ access, params, body }) => putAgentSession(access, params.name ?? "", body));
export const { POST, PATCH, DELETE } = otherMethods("GET", "PUT");
