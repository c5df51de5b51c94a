import { addMember, listMembers } from "@/lib/access/members";
import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";

export const GET = apiRoute(endpoints.listMembers, async ({ access }) => ({ items: await listMembers(access.workspaceId) }));
export const POST = apiRoute(endpoints.addMember, ({ access, body }) => addMember(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
