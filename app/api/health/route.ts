import { getControlDb } from "@/lib/db/store";
import { healthReasons } from "@/lib/db/storage-health";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";

// Degraded is still 200: a load balancer that pulls a node on non-200 would also stop the
// reads it still serves (a full disk refuses writes only; a damaged file, one workspace).
export const GET = portalRoute(portalEndpoints.health, async () => {
  await getControlDb();
  const reasons = healthReasons();
  const body = reasons.length === 0 ? { status: "ok" } : { status: "degraded", reasons };
  return Response.json(body, { headers: { "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
