import { CreateTokenForm } from "@/app/_components/create-token-form";
import { grantCovers } from "@/lib/access/authorize";
import { apiPath, formatTime } from "@/app/_components/format";
import { RevokeButton } from "@/app/_components/revoke-button";
import { ScopeRequired } from "@/app/_components/scope-required";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { roleAtLeast, scopeDescriptions, tokenScopes } from "@/lib/access/scopes";
import { listTeamTokens, tokenStatus } from "@/lib/access/tokens";

export const metadata = { title: "Team tokens · Enclave" };

const tokenRoles = ["viewer", "member", "admin"] as const;

export default async function TokensPage({ params }: { params: Promise<{ workspaceId: string }> }) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "tokens");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const tokens = await listTeamTokens(gate.access);
  const now = Date.now();
  const myRole = gate.access.role ?? "admin";
  const grantableScopes = tokenScopes.filter((scope) => grantCovers(gate.access, scope)).map((name) => ({ name, description: scopeDescriptions[name] }));
  return (
    <>
      <h1>Team tokens</h1>
      <p className="muted">
        Tokens let scripts, CI and agents use this workspace&apos;s API as <code>Authorization: Bearer enc_…</code>. Each carries a role or a list
        of scopes, never more than your own role allows for as long as it lives.
      </p>
      <h2>New token</h2>
      <CreateTokenForm workspaceId={workspaceId} roles={tokenRoles.filter((role) => roleAtLeast(myRole, role))} scopes={grantableScopes} />
      <h2>Tokens</h2>
      {tokens.length === 0 ? (
        <p className="muted">No tokens yet.</p>
      ) : (
        <table aria-label="Team tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Access</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => {
              const status = tokenStatus(token, now);
              return (
                <tr key={token.id}>
                  <th scope="row">{token.name}</th>
                  <td>
                    {token.role ?? "custom"}
                    <br />
                    <small className="muted">{token.scopes.join(", ")}</small>
                  </td>
                  <td>{formatTime(token.createdAt)}</td>
                  <td>{formatTime(token.lastUsedAt)}</td>
                  <td>{formatTime(token.expiresAt)}</td>
                  <td>
                    <span className={`status status-${status}`}>{status}</span>
                  </td>
                  <td>
                    {status === "active" ? (
                      <RevokeButton
                        url={apiPath(workspaceId, "tokens", token.id)}
                        name={token.name}
                        question={`Revoke “${token.name}”? Anything using it stops working at once.`}
                      />
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
