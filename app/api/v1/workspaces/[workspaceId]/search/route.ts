import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { searchKnowledge } from "@/lib/workspace/search";

export const GET = apiRoute(endpoints.search, async ({ access, query }) => ({ results: await searchKnowledge(access.workspaceId, query) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
