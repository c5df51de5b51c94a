import { issueTeamToken, listTeamTokens } from "@/lib/access/tokens";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const GET = apiRoute(endpoints.listTokens, async ({ access }) => ({ items: await listTeamTokens(access) }));
export const POST = apiRoute(endpoints.issueToken, ({ access, body }) => issueTeamToken(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
