import { apiPath, formatBytes, formatTime } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { listArtifacts } from "@/lib/workspace/artifacts";

export const metadata = { title: "Artifacts · Enclave" };

export default async function ArtifactsPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const artifacts = await listArtifacts(gate.access);
  return (
    <>
      <h1>Artifacts</h1>
      <p className="muted">Files agents have stored here. Downloads are always attachments: an artifact is never opened as a page of this site.</p>
      {artifacts.length === 0 ? (
        <p className="muted">No artifacts yet.</p>
      ) : (
        <table aria-label="Artifacts">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Updated by</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {artifacts.map((artifact) => (
              <tr key={artifact.name}>
                <td>
                  <a href={apiPath(workspaceId, "artifacts", artifact.name)} download={artifact.name}>
                    {artifact.name}
                  </a>
                </td>
                <td>
                  <code>{artifact.contentType}</code>
                </td>
                <td>{formatBytes(artifact.size)}</td>
                <td>
                  <code title={artifact.sha256}>{artifact.sha256.slice(0, 12)}…</code>
                </td>
                <td>{artifact.updatedBy}</td>
                <td>{formatTime(artifact.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
