import { DeleteWorkspaceForm } from "@/app/_components/delete-workspace-form";
import { RedactionSettingsForm } from "@/app/_components/redaction-settings-form";
import { ScopeRequired } from "@/app/_components/scope-required";
import { TransferOwnershipForm } from "@/app/_components/transfer-ownership-form";
import { getMemberWorkspace, requireWorkspaceAccess } from "@/app/_server/auth";
import { authorizeWithin, grantCovers } from "@/lib/access/authorize";
import { listMembers } from "@/lib/access/members";
import { getConfig } from "@/lib/config";
import { getRedactionSettings } from "@/lib/workspace/redaction-settings";

export const metadata = { title: "Settings · Enclave" };

export default async function SettingsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "settings");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const settings = await getRedactionSettings(gate.access);
  // Owner-only sections: shown by the same scopes the endpoints check (ownership, workspace:delete).
  const owner = grantCovers(gate.access, "ownership") && grantCovers(gate.access, "workspace:delete");
  const candidates = owner ? (await listMembers(authorizeWithin(gate.access, "members"))).filter((member) => member.role !== "owner") : [];
  const workspace = owner ? await getMemberWorkspace(gate.user.id, workspaceId) : null;
  return (
    <>
      <h1>Settings</h1>
      <h2>Secret redaction</h2>
      <p className="muted">
        Everything written to this workspace — knowledge, session state, events, text artifacts — is scanned for secrets before it is stored, and
        each one found is replaced by <code>[REDACTED:kind]</code>.
      </p>
      <RedactionSettingsForm workspaceId={workspaceId} initial={settings} />
      {owner && workspace ? (
        <>
          <h2>Transfer ownership</h2>
          <p className="muted">Hand this workspace to another member. They become its owner; you stay on as an admin.</p>
          <TransferOwnershipForm workspaceId={workspaceId} candidates={candidates.map(({ userId, email, role }) => ({ userId, email, role }))} />
          <h2>Delete workspace</h2>
          <DeleteWorkspaceForm workspaceId={workspaceId} name={workspace.name} holdDays={getConfig().ENCLAVE_CLOSURE_HOLD_DAYS} />
        </>
      ) : null}
    </>
  );
}
