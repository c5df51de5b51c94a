import Link from "next/link";
import { notFound } from "next/navigation";
import { KnowledgeForm } from "@/app/_components/knowledge-form";
import { workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { findOrNull } from "@/app/_server/find";
import { authorizeWithin } from "@/lib/access/authorize";
import { getKnowledge } from "@/lib/workspace/knowledge";

export const metadata = { title: "Edit knowledge entry · Enclave" };

export default async function EditKnowledgePage({ params }: { params: Promise<{ workspaceId: string; id: string }> }) {
  const { workspaceId, id } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "knowledge");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const entry = await findOrNull(getKnowledge(authorizeWithin(gate.access, "search"), id));
  if (!entry) notFound();
  return (
    <>
      <h1>Edit “{entry.title}”</h1>
      <p className="muted">Version {entry.version}. If someone saves a change before you do, you will be asked to reload rather than overwrite it.</p>
      <KnowledgeForm workspaceId={workspaceId} entry={{ id: entry.id, title: entry.title, body: entry.body, tags: entry.tags, source: entry.source, version: entry.version }} />
      <p>
        <Link href={workspacePath(workspaceId, "knowledge", id)}>Cancel</Link>
      </p>
    </>
  );
}
