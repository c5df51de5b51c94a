import { KnowledgeForm } from "@/app/_components/knowledge-form";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";

export const metadata = { title: "New knowledge entry · Enclave" };

export default async function NewKnowledgePage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "knowledge");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  return (
    <>
      <h1>New knowledge entry</h1>
      <KnowledgeForm workspaceId={workspaceId} />
    </>
  );
}
