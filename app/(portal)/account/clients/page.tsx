import Link from "next/link";
import { formatTime } from "@/app/_components/format";
import { RevokeClientButton } from "@/app/_components/revoke-client-button";
import { requireUser } from "@/app/_server/auth";
import { listConnectedClients } from "@/lib/oauth/connected-clients";
import { mcpResourceUrl } from "@/lib/oauth/resource";

export const metadata = { title: "Your AI clients · Enclave" };

const revokeUrl = (grantId: string) => `/api/account/clients/${encodeURIComponent(grantId)}`;

/**
 * The AI clients this person connected, in every workspace (including any they have since
 * left, so they can still cut them off). Client names come from the clients: text only.
 */
export default async function AccountClientsPage() {
  const { user } = await requireUser();
  const clients = await listConnectedClients({ userId: user.id });
  return (
    <>
      <p>
        <Link href="/account">← Account</Link>
      </p>
      <h1>Your connected AI clients</h1>
      <p className="muted">Each client acts for you in one workspace, with the scopes you consented to. Revoking one takes effect on its next request.</p>
      <p>
        To connect an AI client (Claude, Cursor, VS Code…), add the MCP server <code>{mcpResourceUrl()}</code>; the client opens Enclave in your
        browser, where you sign in, pick a workspace and approve its scopes.
      </p>
      {clients.length === 0 ? (
        <p className="muted">No AI clients are connected.</p>
      ) : (
        <table aria-label="Your connected AI clients">
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Workspace</th>
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
                <td>{client.workspaceName}</td>
                <td>
                  <small>{client.scopes.join(", ")}</small>
                </td>
                <td>{formatTime(client.createdAt)}</td>
                <td>{formatTime(client.lastUsedAt)}</td>
                <td>
                  <RevokeClientButton url={revokeUrl(client.grantId)} clientName={client.clientName} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
