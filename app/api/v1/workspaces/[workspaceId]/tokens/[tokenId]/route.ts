import { revokeTeamToken } from "@/lib/access/tokens";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const DELETE = apiRoute(endpoints.revokeToken, ({ access, params }) => revokeTeamToken(access, params.tokenId ?? ""));
export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
