import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { restoreWorkspace } from "@/lib/lifecycle/workspace-deletion";

// Not through authorize(), which hides deleted workspaces: restoreWorkspace checks the person owns it.
export const POST = portalRoute(portalEndpoints.restoreWorkspace, async ({ session, params, ip }) => {
  await limitApiCall("admin", "restoreWorkspace", ip);
  return Response.json(await restoreWorkspace(session.user.id, params.workspaceId ?? ""));
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
