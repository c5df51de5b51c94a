import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { authorizeBilling, resumeSubscription } from "@/lib/workspace/billing";
import { limitApiCall } from "@/lib/http/rate-limits";

export const POST = portalRoute(portalEndpoints.resumeSubscription, async ({ session, params, ip }) => {
  await limitApiCall("admin", "resumeSubscription", ip);
  const access = await authorizeBilling(session.user.id, params.workspaceId ?? "", "resumeSubscription");
  return Response.json(await resumeSubscription(access));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
