import { changeMemberRole, removeMember } from "@/lib/access/members";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const PATCH = apiRoute(endpoints.changeMemberRole, ({ access, params, body }) => changeMemberRole(access, params.userId ?? "", body.role));
export const DELETE = apiRoute(endpoints.removeMember, ({ access, params }) => removeMember(access, params.userId ?? ""));
export const { GET, POST, PUT } = otherMethods("PATCH", "DELETE");
