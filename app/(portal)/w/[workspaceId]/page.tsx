import { requireWorkspaceMember } from "@/app/_server/auth";

export default async function WorkspacePage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspace } = await requireWorkspaceMember((await params).workspaceId);
  return (
    <>
      <h1>{workspace.name}</h1>
      <p className="muted">
        Your role: {workspace.role} · Workspace id <code>{workspace.id}</code>
      </p>
      <section className="empty" aria-label="Workspace contents">
        <h2>Nothing here yet</h2>
        <p>Knowledge, agent sessions, events and artifacts that your team and its agents share will appear here.</p>
      </section>
    </>
  );
}
