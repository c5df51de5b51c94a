import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { authorizeBilling, billingOverview } from "@/lib/workspace/billing";
import { limitApiCall } from "@/lib/http/rate-limits";

export const GET = portalRoute(portalEndpoints.billingOverview, async ({ session, params, ip }) => {
  await limitApiCall("admin", "billingOverview", ip);
  const access = await authorizeBilling(session.user.id, params.workspaceId ?? "", "billingOverview");
  return Response.json(await billingOverview(access), { headers: { "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
