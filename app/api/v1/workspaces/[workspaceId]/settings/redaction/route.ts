import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { getRedactionSettings, setRedactionSettings } from "@/lib/workspace/redaction-settings";

export const GET = apiRoute(endpoints.getRedactionSettings, ({ access }) => getRedactionSettings(access));
export const PUT = apiRoute(endpoints.putRedactionSettings, ({ access, body }) => setRedactionSettings(access, body));
export const { POST, PATCH, DELETE } = otherMethods("GET", "PUT");
