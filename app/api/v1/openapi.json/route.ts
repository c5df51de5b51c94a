import { openApiDocument } from "@/lib/api/openapi";
import { getConfig } from "@/lib/config";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

export const GET = portalRoute(portalEndpoints.openApi, () =>
  Promise.resolve(Response.json(openApiDocument(getConfig().ENCLAVE_PUBLIC_URL.origin), { headers: { "cache-control": "no-cache" } })),
);
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
