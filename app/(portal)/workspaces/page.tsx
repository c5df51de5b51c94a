import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { CreateWorkspaceForm } from "@/app/_components/create-workspace-form";
import { listWorkspacesForUser } from "@/lib/workspace/workspaces";

export const metadata = { title: "Workspaces · Enclave" };

export default async function WorkspacesPage() {
  const { user } = await requireUser();
  const workspaces = await listWorkspacesForUser(user.id);
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
    </>
  );
}
