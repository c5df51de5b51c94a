import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { authorizeBilling, cancelAtPeriodEnd } from "@/lib/workspace/billing";
import { limitApiCall } from "@/lib/http/rate-limits";

export const POST = portalRoute(portalEndpoints.cancelSubscription, async ({ session, params, ip }) => {
  await limitApiCall("admin", "cancelSubscription", ip);
  const access = await authorizeBilling(session.user.id, params.workspaceId ?? "", "cancelSubscription");
  return Response.json(await cancelAtPeriodEnd(access));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
