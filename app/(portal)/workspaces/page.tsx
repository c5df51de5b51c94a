import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { CreateWorkspaceForm } from "@/app/_components/create-workspace-form";
import { formatTime } from "@/app/_components/format";
import { RestoreWorkspaceButton } from "@/app/_components/restore-workspace-button";
import { listDeletedWorkspaces } from "@/lib/lifecycle/workspace-deletion";
import { listWorkspacesForUser } from "@/lib/workspace/workspaces";

export const metadata = { title: "Workspaces · Enclave" };

export default async function WorkspacesPage() {
  const { user } = await requireUser();
  const [workspaces, deleted] = await Promise.all([listWorkspacesForUser(user.id), listDeletedWorkspaces(user.id)]);
  return (
    <>
      <h1>Workspaces</h1>
      {workspaces.length === 0 ? (
        <p>You have no workspaces yet. Create one to start sharing context with your team and its agents.</p>
      ) : (
        <ul className="list" aria-label="Your workspaces">
          {workspaces.map((workspace) => (
            <li key={workspace.id}>
              <Link href={`/w/${workspace.id}`}>{workspace.name}</Link> <span className="muted">{workspace.role}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>New workspace</h2>
      <CreateWorkspaceForm />
      {deleted.length > 0 ? (
        <section aria-labelledby="deleted-workspaces">
          <h2 id="deleted-workspaces">Deleted workspaces</h2>
          <p className="muted">Nobody can use these. You can restore each one until it is erased; its team tokens and AI clients stay revoked.</p>
          <ul className="list" aria-label="Deleted workspaces">
            {deleted.map((workspace) => (
              <li key={workspace.id}>
                {workspace.name} <span className="muted">· erased after {formatTime(workspace.purgeAt)}</span>{" "}
                <RestoreWorkspaceButton workspaceId={workspace.id} name={workspace.name} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
