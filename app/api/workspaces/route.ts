import { handler, otherMethods } from "@/lib/http/handler";
import { createWorkspace, createWorkspaceSchema, listWorkspacesForUser } from "@/lib/workspace/workspaces";

export const GET = handler({ trust: "user" }, async ({ session }) =>
  Response.json({ workspaces: await listWorkspacesForUser(session.user.id) }),
);

export const POST = handler({ trust: "user", body: createWorkspaceSchema }, async ({ session, body }) =>
  Response.json({ workspace: await createWorkspace(session.user.id, body.name) }, { status: 201 }),
);

export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
