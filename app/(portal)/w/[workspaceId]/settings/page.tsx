import { RedactionSettingsForm } from "@/app/_components/redaction-settings-form";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { getRedactionSettings } from "@/lib/workspace/redaction-settings";

export const metadata = { title: "Settings · Enclave" };

export default async function SettingsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "settings");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const settings = await getRedactionSettings(gate.access);
  return (
    <>
      <h1>Settings</h1>
      <h2>Secret redaction</h2>
      <p className="muted">
        Everything written to this workspace — knowledge, session state, events, text artifacts — is scanned for secrets before it is stored, and
        each one found is replaced by <code>[REDACTED:kind]</code>.
      </p>
      <RedactionSettingsForm workspaceId={workspaceId} initial={settings} />
    </>
  );
}
