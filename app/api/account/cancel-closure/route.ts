import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { cancelClosure } from "@/lib/lifecycle/closure";

// The one endpoint a closing account's session may call (accountStates: "any" in its table entry).
export const POST = portalRoute(portalEndpoints.cancelClosure, async ({ session, ip }) => {
  await limitApiCall("admin", "cancelClosure", ip);
  return Response.json(await cancelClosure(session.user.id, { type: "user", id: session.user.id }));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
