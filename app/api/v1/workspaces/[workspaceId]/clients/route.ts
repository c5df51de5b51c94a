import { endpoints } from "@/lib/api/endpoints";
import { apiRoute, otherMethods } from "@/lib/api/route";
import { listConnectedClients, type ConnectedClient } from "@/lib/oauth/connected-clients";

// Field by field, so the API answers with what its schema documents and nothing a later column adds.
const apiView = (client: ConnectedClient) => ({
  grantId: client.grantId,
  clientId: client.clientId,
  clientName: client.clientName,
  userId: client.userId,
  workspaceId: client.workspaceId,
  scopes: client.scopes,
  createdAt: client.createdAt,
  lastUsedAt: client.lastUsedAt,
  redirectUri: client.redirectUri,
});

export const GET = apiRoute(endpoints.listClients, async ({ access }) => ({
  items: (await listConnectedClients({ workspaceId: access.workspaceId })).map(apiView),
}));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
