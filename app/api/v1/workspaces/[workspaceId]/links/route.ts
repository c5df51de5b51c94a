import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { createLink } from "@/lib/workspace/links";

export const POST = apiRoute(endpoints.createLink, ({ access, body }) => createLink(access, body));
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
