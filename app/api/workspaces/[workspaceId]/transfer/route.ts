import { authorize } from "@/lib/access/authorize";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { transferOwnership } from "@/lib/lifecycle/transfer";

export const POST = portalRoute(portalEndpoints.transferWorkspace, async ({ session, params, body, ip }) => {
  await limitApiCall("admin", "transferWorkspace", ip);
  const access = await authorize({ kind: "user", userId: session.user.id }, params.workspaceId ?? "", "ownership");
  return Response.json(await transferOwnership(access, body.userId));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
