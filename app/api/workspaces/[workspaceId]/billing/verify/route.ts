import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { authorizeBilling, verifyCheckout } from "@/lib/workspace/billing";
import { limitApiCall } from "@/lib/http/rate-limits";

export const POST = portalRoute(portalEndpoints.verifyCheckout, async ({ session, params, body, ip }) => {
  await limitApiCall("admin", "verifyCheckout", ip);
  const access = await authorizeBilling(session.user.id, params.workspaceId ?? "", "verifyCheckout");
  return Response.json(await verifyCheckout(access, body));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
