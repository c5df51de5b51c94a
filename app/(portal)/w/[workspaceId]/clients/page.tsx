import { ConnectedClientsTable } from "@/app/_components/connected-clients-table";
import { apiPath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { listConnectedClients } from "@/lib/oauth/connected-clients";

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
      <ConnectedClientsTable
        label="Connected AI clients"
        clients={clients}
        column={{ heading: "Connected by", value: (client) => client.userEmail }}
        revokeUrl={(grantId) => apiPath(workspaceId, "clients", grantId)}
      />
    </>
  );
}
