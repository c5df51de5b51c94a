import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { createKnowledge, listKnowledge } from "@/lib/workspace/knowledge";

export const GET = apiRoute(endpoints.listKnowledge, ({ access, query }) => listKnowledge(access, query));
export const POST = apiRoute(endpoints.createKnowledge, ({ access, body }) => createKnowledge(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
