import Link from "next/link";
import { notFound } from "next/navigation";
import { formatTime, isoTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { findOrNull } from "@/app/_server/find";
import { getAgentSession } from "@/lib/workspace/agent-sessions";

export const metadata = { title: "Agent session · Enclave" };

export default async function SessionPage({ params }: { params: Promise<{ workspaceId: string; name: string }> }) {
  const { workspaceId, name } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const session = await findOrNull(getAgentSession(gate.access, name));
  if (!session) notFound();
  return (
    <article aria-labelledby="session-name">
      <h1 id="session-name">{session.name}</h1>
      <dl className="meta">
        <dt>Rev</dt>
        <dd>{session.rev}</dd>
        <dt>Channel</dt>
        <dd>{session.channel ?? <span className="muted">none</span>}</dd>
        <dt>Updated by</dt>
        <dd>{session.updatedBy}</dd>
        <dt>Updated</dt>
        <dd>
          <time dateTime={isoTime(session.updatedAt)}>{formatTime(session.updatedAt)}</time>
        </dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={isoTime(session.createdAt)}>{formatTime(session.createdAt)}</time>
        </dd>
      </dl>
      <h2 id="state-heading">State</h2>
      <pre className="json" aria-labelledby="state-heading">
        {JSON.stringify(session.state, null, 2)}
      </pre>
      <p>
        <Link href={workspacePath(workspaceId, "sessions")}>All sessions</Link>
      </p>
    </article>
  );
}
