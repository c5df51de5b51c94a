import { apiRoute } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { otherMethods } from "@/lib/http/handler";
import { listEvents, publishEvent } from "@/lib/workspace/events";

export const GET = apiRoute(endpoints.listEvents, ({ access, query }) => listEvents(access.workspaceId, query));
export const POST = apiRoute(endpoints.publishEvent, ({ access, body }) => publishEvent(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
