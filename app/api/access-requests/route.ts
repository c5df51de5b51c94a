import { submitAccessRequest } from "@/lib/access/access-requests";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

export const POST = portalRoute(portalEndpoints.requestAccess, async ({ body, ip }) =>
  Response.json(await submitAccessRequest(body, ip), { status: 202, headers: { "cache-control": "no-store" } }),
);

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
