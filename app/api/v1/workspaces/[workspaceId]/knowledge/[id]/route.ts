import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { deleteKnowledge, getKnowledge, updateKnowledge } from "@/lib/workspace/knowledge";

export const GET = apiRoute(endpoints.getKnowledge, ({ access, params }) => getKnowledge(access, params.id ?? ""));
export const PATCH = apiRoute(endpoints.updateKnowledge, ({ access, params, body }) => updateKnowledge(access, params.id ?? "", body));
export const DELETE = apiRoute(endpoints.deleteKnowledge, ({ access, params }) => deleteKnowledge(access, params.id ?? ""));
export const { POST, PUT } = otherMethods("GET", "PATCH", "DELETE");
