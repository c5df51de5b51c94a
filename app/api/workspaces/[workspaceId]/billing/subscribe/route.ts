import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { authorizeBilling, startSubscription } from "@/lib/workspace/billing";
import { limitApiCall } from "@/lib/http/rate-limits";

export const POST = portalRoute(portalEndpoints.subscribe, async ({ session, params, body, ip }) => {
  await limitApiCall("admin", "subscribe", ip);
  const access = await authorizeBilling(session.user.id, params.workspaceId ?? "", "subscribe");
  return Response.json(await startSubscription(access, body.planId), { status: 201 });
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
