import Link from "next/link";
import { ConnectedClientsTable } from "@/app/_components/connected-clients-table";
import { requireUser } from "@/app/_server/auth";
import { listConnectedClients } from "@/lib/oauth/connected-clients";

export const metadata = { title: "Your AI clients · Enclave" };

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
      <ConnectedClientsTable
        label="Your connected AI clients"
        clients={clients}
        column={{ heading: "Workspace", value: (client) => client.workspaceName }}
        revokeUrl={(grantId) => `/api/account/clients/${encodeURIComponent(grantId)}`}
      />
    </>
  );
}
