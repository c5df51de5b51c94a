import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitWorkspaceCreation } from "@/lib/http/rate-limits";
import { listDeletedWorkspaces } from "@/lib/lifecycle/workspace-deletion";
import { createWorkspace, listWorkspacesForUser } from "@/lib/workspace/workspaces";

// Deleted workspaces are listed apart, and only to their owners, who may still restore them.
export const GET = portalRoute(portalEndpoints.listWorkspaces, async ({ session }) =>
  Response.json({ workspaces: await listWorkspacesForUser(session.user.id), deleted: await listDeletedWorkspaces(session.user.id) }),
);

export const POST = portalRoute(portalEndpoints.createWorkspace, async ({ session, body, ip }) => {
  await limitWorkspaceCreation(ip, session.user.id);
  return Response.json({ workspace: await createWorkspace({ type: "user", userId: session.user.id }, body.name) }, { status: 201 });
});

export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
