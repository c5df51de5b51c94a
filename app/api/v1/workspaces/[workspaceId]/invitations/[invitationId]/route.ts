import { revokeInvitation } from "@/lib/access/invitations";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const DELETE = apiRoute(endpoints.revokeInvitation, ({ access, params }) => revokeInvitation(access, params.invitationId ?? ""));
export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
