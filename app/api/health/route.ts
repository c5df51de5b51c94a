import { getControlDb } from "@/lib/db/store";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

export const GET = portalRoute(portalEndpoints.health, async () => {
  await getControlDb();
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
