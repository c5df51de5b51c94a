import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { neighbors } from "@/lib/workspace/links";

export const GET = apiRoute(endpoints.neighbors, async ({ access, params }) => ({ items: await neighbors(access, params.id ?? "") }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
