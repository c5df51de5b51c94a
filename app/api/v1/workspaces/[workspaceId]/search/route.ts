import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { searchKnowledge } from "@/lib/workspace/search";

export const GET = apiRoute(endpoints.search, async ({ access, query }) => ({ results: await searchKnowledge(access, query) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
