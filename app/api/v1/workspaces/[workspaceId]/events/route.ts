import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { listEvents, publishEvent } from "@/lib/workspace/events";

export const GET = apiRoute(endpoints.listEvents, ({ access, query }) => listEvents(access, query));
export const POST = apiRoute(endpoints.publishEvent, ({ access, body }) => publishEvent(access, body));
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
