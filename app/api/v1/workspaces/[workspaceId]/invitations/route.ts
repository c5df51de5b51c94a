import { listInvitations } from "@/lib/access/invitations";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const GET = apiRoute(endpoints.listInvitations, async ({ access }) => ({ items: await listInvitations(access) }));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
