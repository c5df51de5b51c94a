import { revokeTeamToken } from "@/lib/access/tokens";
import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";

export const DELETE = apiRoute(endpoints.revokeToken, ({ access, params }) => revokeTeamToken(access.workspaceId, params.tokenId ?? "", access.actor));
export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
