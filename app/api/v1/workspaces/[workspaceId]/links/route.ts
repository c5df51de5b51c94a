import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { createLink } from "@/lib/workspace/links";

export const POST = apiRoute(endpoints.createLink, ({ access, body }) => createLink(access, body));
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
