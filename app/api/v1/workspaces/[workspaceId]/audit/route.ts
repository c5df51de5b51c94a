import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { readWorkspaceAudit, workspaceChainStatus } from "@/lib/workspace/audit-trail";

export const GET = apiRoute(endpoints.listAudit, async ({ access, query }) => ({ ...(await readWorkspaceAudit(access, query)), chain: await workspaceChainStatus(access) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
