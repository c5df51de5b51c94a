import type { ConnectedClient } from "@/lib/oauth/connected-clients";
import { mcpResourceUrl } from "@/lib/oauth/resource";
import { formatTime } from "./format";
import { RevokeButton } from "./revoke-button";

type Props = {
  label: string;
  clients: ConnectedClient[];
  /** The second column: whose client it is (for admins), or where it acts (for its person). */
  column: { heading: string; value: (client: ConnectedClient) => string };
  revokeUrl: (grantId: string) => string;
};

/**
 * The connected-clients list the person's page and the admins' page share. Client names and
 * redirect URIs are chosen by the clients themselves: plain text, never links.
 */
export function ConnectedClientsTable({ label, clients, column, revokeUrl }: Props) {
  return (
    <>
      <p>
        To connect an AI client (Claude, Cursor, VS Code…), add the MCP server <code>{mcpResourceUrl()}</code>; the client opens Enclave in your
        browser, where you sign in, pick a workspace and approve its scopes.
      </p>
      {clients.length === 0 ? (
        <p className="muted">No AI clients are connected.</p>
      ) : (
        <table aria-label={label}>
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">{column.heading}</th>
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
                <td>{column.value(client)}</td>
                <td>
                  <small>{client.scopes.join(", ")}</small>
                </td>
                <td>{formatTime(client.createdAt)}</td>
                <td>{formatTime(client.lastUsedAt)}</td>
                <td>
                  <RevokeButton
                    url={revokeUrl(client.grantId)}
                    name={client.clientName}
                    question={`Disconnect “${client.clientName}”? It loses access on its next request and must be connected again.`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
