import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { neighbors } from "@/lib/workspace/links";

export const GET = apiRoute(endpoints.neighbors, async ({ access, params }) => ({ items: await neighbors(access.workspaceId, params.id ?? "") }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
