import { formatTime, apiPath } from "@/app/_components/format";
import { RevokeClientButton } from "@/app/_components/revoke-client-button";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { listConnectedClients } from "@/lib/oauth/connected-clients";
import { mcpResourceUrl } from "@/lib/oauth/resource";

export const metadata = { title: "Connected AI clients · Enclave" };

/**
 * Everyone's AI clients in this workspace, for its admins. Client names and redirect URIs are
 * chosen by the clients themselves, so they are shown as plain text and never as links.
 */
export default async function ClientsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "clients");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const clients = await listConnectedClients({ workspaceId });
  return (
    <>
      <h1>Connected AI clients</h1>
      <p className="muted">
        AI clients act for the person who connected them, with the scopes that person consented to and never more than their role allows.
        Revoking one takes effect on its next request.
      </p>
      <p>
        To connect an AI client (Claude, Cursor, VS Code…), add the MCP server <code>{mcpResourceUrl()}</code>; the client opens Enclave in your
        browser, where you sign in, pick a workspace and approve its scopes.
      </p>
      {clients.length === 0 ? (
        <p className="muted">No AI clients are connected.</p>
      ) : (
        <table aria-label="Connected AI clients">
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Connected by</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {clients.map((client) => (
              <tr key={client.grantId}>
                <th scope="row">
                  {client.clientName}
                  <br />
                  <small className="muted">{client.redirectUri}</small>
                </th>
                <td>{client.userEmail}</td>
                <td>
                  <small>{client.scopes.join(", ")}</small>
                </td>
                <td>{formatTime(client.createdAt)}</td>
                <td>{formatTime(client.lastUsedAt)}</td>
                <td>
                  <RevokeClientButton url={apiPath(workspaceId, "clients", client.grantId)} clientName={client.clientName} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
