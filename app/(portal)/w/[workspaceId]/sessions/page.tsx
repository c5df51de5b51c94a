import Link from "next/link";
import { formatTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { listAgentSessions } from "@/lib/workspace/agent-sessions";

export const metadata = { title: "Agent sessions · Enclave" };

export default async function SessionsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const sessions = await listAgentSessions(gate.access);
  return (
    <>
      <h1>Agent sessions</h1>
      <p className="muted">Named state that agents read and write back through the API, each write checked against the revision it read.</p>
      {sessions.length === 0 ? (
        <p className="muted">No agent sessions yet.</p>
      ) : (
        <table aria-label="Agent sessions">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Channel</th>
              <th scope="col">Rev</th>
              <th scope="col">Updated by</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((session) => (
              <tr key={session.name}>
                <td>
                  <Link href={workspacePath(workspaceId, "sessions", session.name)}>{session.name}</Link>
                </td>
                <td>{session.channel ?? <span className="muted">—</span>}</td>
                <td>{session.rev}</td>
                <td>{session.updatedBy}</td>
                <td>{formatTime(session.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
