import Link from "next/link";
import { grantCovers } from "@/lib/access/authorize";
import { formatTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { getMemberWorkspace, requireWorkspaceAccess } from "@/app/_server/auth";
import { workspaceStats } from "@/lib/workspace/stats";
import { listKnowledge } from "@/lib/workspace/knowledge";

export const metadata = { title: "Workspace · Enclave" };

export default async function WorkspacePage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const [workspace, stats, recent] = await Promise.all([
    getMemberWorkspace(gate.user.id, workspaceId),
    workspaceStats(gate.access),
    listKnowledge(gate.access, { limit: 5 }),
  ]);
  const path = (...segments: string[]) => workspacePath(workspaceId, ...segments);
  const empty = stats.knowledge + stats.sessions + stats.events + stats.artifacts === 0;
  const canWrite = grantCovers(gate.access, "knowledge");
  return (
    <>
      <h1>{workspace?.name}</h1>
      <p className="muted">
        Your role: {gate.access.role} · Workspace id <code>{workspaceId}</code>
      </p>
      <ul className="stats" aria-label="Workspace contents">
        <li>
          <Link href={path("knowledge")}>Knowledge entries</Link> <strong>{stats.knowledge}</strong>
        </li>
        <li>
          <Link href={path("sessions")}>Agent sessions</Link> <strong>{stats.sessions}</strong>
        </li>
        <li>
          <Link href={path("events")}>Events</Link> <strong>{stats.events}</strong>
        </li>
        <li>
          <Link href={path("artifacts")}>Artifacts</Link> <strong>{stats.artifacts}</strong>
        </li>
      </ul>
      {empty ? (
        <section className="empty" aria-label="Getting started">
          <h2>Nothing here yet</h2>
          <p>Knowledge, agent sessions, events and artifacts that your team and its agents share will appear here.</p>
          {canWrite ? <Link href={path("knowledge", "new")}>Write the first knowledge entry</Link> : null}
        </section>
      ) : (
        <section aria-labelledby="recent-heading">
          <h2 id="recent-heading">Recent knowledge</h2>
          {recent.items.length === 0 ? (
            <p className="muted">No knowledge entries yet.</p>
          ) : (
            <ul className="list" aria-label="Recent knowledge">
              {recent.items.map((entry) => (
                <li key={entry.id}>
                  <Link href={path("knowledge", entry.id)}>{entry.title}</Link> <span className="muted">updated {formatTime(entry.updatedAt)}</span>
                </li>
              ))}
            </ul>
          )}
          <p>
            <Link href={path("search")}>Search knowledge</Link>
            {canWrite ? (
              <>
                {" · "}
                <Link href={path("knowledge", "new")}>New entry</Link>
              </>
            ) : null}
          </p>
        </section>
      )}
    </>
  );
}
