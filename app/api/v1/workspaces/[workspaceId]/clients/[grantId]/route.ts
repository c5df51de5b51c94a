import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { revokeConnectedClient } from "@/lib/oauth/connected-clients";

// Scoped to the workspace the caller was authorized for: a grant id from elsewhere is a 404.
export const DELETE = apiRoute(endpoints.revokeClient, ({ access, params }) =>
  revokeConnectedClient({ workspaceId: access.workspaceId }, params.grantId ?? "", access.actor),
);
export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
