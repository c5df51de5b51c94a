import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { listConnectedClients, type ConnectedClient } from "@/lib/oauth/connected-clients";

// The person's own connections, in every workspace; their own email would only repeat itself.
const personView = (client: ConnectedClient) => ({
  grantId: client.grantId,
  clientId: client.clientId,
  clientName: client.clientName,
  workspaceId: client.workspaceId,
  workspaceName: client.workspaceName,
  scopes: client.scopes,
  createdAt: client.createdAt,
  lastUsedAt: client.lastUsedAt,
  redirectUri: client.redirectUri,
});

export const GET = portalRoute(portalEndpoints.listAccountClients, async ({ session, ip }) => {
  await limitApiCall("admin", "listAccountClients", ip);
  const items = (await listConnectedClients({ userId: session.user.id })).map(personView);
  return Response.json({ items }, { headers: { "cache-control": "no-store" } });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
