import { issuerFor } from "@/lib/access/authorize";
import { issueTeamToken, listTeamTokens } from "@/lib/access/tokens";
import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";

export const GET = apiRoute(endpoints.listTokens, async ({ access }) => ({ items: await listTeamTokens(access.workspaceId) }));
export const POST = apiRoute(endpoints.issueToken, ({ access, body }) => issueTeamToken(access.workspaceId, body, issuerFor(access)));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
