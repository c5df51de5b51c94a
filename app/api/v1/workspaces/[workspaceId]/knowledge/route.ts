import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { createKnowledge, listKnowledge } from "@/lib/workspace/knowledge";

export const GET = apiRoute(endpoints.listKnowledge, ({ access, query }) => listKnowledge(access.workspaceId, query));
export const POST = apiRoute(endpoints.createKnowledge, ({ access, body }) => createKnowledge(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
