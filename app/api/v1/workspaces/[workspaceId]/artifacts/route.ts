import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { listArtifacts } from "@/lib/workspace/artifacts";

export const GET = apiRoute(endpoints.listArtifacts, async ({ access }) => ({ items: await listArtifacts(access) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
