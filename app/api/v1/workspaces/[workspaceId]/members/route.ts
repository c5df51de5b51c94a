import { addMember, listMembers } from "@/lib/access/members";
import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";

export const GET = apiRoute(endpoints.listMembers, async ({ access }) => ({ items: await listMembers(access) }));
export const POST = apiRoute(endpoints.addMember, ({ access, body }) => addMember(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
