import { authorize } from "@/lib/access/authorize";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { deleteWorkspace } from "@/lib/lifecycle/workspace-deletion";

export const DELETE = portalRoute(portalEndpoints.deleteWorkspace, async ({ session, params, body, ip }) => {
  await limitApiCall("admin", "deleteWorkspace", ip);
  const access = await authorize({ kind: "user", userId: session.user.id }, params.workspaceId ?? "", "workspace:delete");
  return Response.json(await deleteWorkspace(access, body.confirmName));
});

export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
