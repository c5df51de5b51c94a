import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { ConsentForm } from "@/app/_components/consent-form";
import { roleScopes, scopeDescriptions } from "@/lib/access/scopes";
import { checkAuthorizationRequest } from "@/lib/oauth/authorization-request";
import { consentFormToken } from "@/lib/oauth/consent";
import { isLoopbackRedirect } from "@/lib/oauth/redirect-uris";
import { listWorkspacesForUser } from "@/lib/workspace/workspaces";

export const metadata = { title: "Connect an AI client · Enclave" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function toQuery(params: Record<string, string | string[] | undefined>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const one of [value ?? []].flat()) query.append(name, one);
  return query;
}

/**
 * The consent page (GET /oauth/authorize). A request that fails before the client's redirect
 * URI is trusted is explained here and goes nowhere; later failures go back to the client.
 */
export default async function AuthorizePage({ searchParams }: { searchParams: SearchParams }) {
  const query = toQuery(await searchParams);
  const check = await checkAuthorizationRequest(query);
  if (!check.ok && check.redirect) redirect(check.location);
  if (!check.ok) {
    return (
      <main className="auth">
        <p className="brand">Enclave</p>
        <h1>This connection request cannot be used</h1>
        <p role="alert">{check.message}</p>
        <p>Start the connection again from your AI client. Nothing was shared.</p>
      </main>
    );
  }
  const signedIn = await getUser();
  if (!signedIn) redirect(`/sign-in?returnTo=${encodeURIComponent(`/oauth/authorize?${query.toString()}`)}`);
  const { request } = check;
  const workspaces = await listWorkspacesForUser(signedIn.user.id);
  const redirectHost = new URL(request.redirectUri).host || new URL(request.redirectUri).protocol;
  return (
    <main className="auth consent">
      <p className="brand">Enclave</p>
      <h1>Connect “{request.client.name}”?</h1>
      <p>
        It will act as you ({signedIn.user.email}) in the workspace you choose, through Enclave&apos;s MCP endpoint. After you approve, your browser returns to{" "}
        <strong>{redirectHost}</strong>.
      </p>
      {request.client.documentHost ? (
        <p>
          The client names itself; its description is published by <strong>{request.client.documentHost}</strong>.
        </p>
      ) : (
        <p className="hint">The client registered itself with this name; Enclave has not verified it.</p>
      )}
      {isLoopbackRedirect(request.redirectUri) ? (
        <p className="notice" role="note">
          This client receives its answer on your own computer ({redirectHost}). Any program running there could have used this name: approve only if you just started this
          connection yourself.
        </p>
      ) : null}
      {workspaces.length === 0 ? (
        <p>
          You are not a member of any workspace yet. <Link href="/workspaces">Create one</Link>, then connect again.
        </p>
      ) : (
        <ConsentForm
          query={query.toString()}
          formToken={consentFormToken(signedIn, request)}
          workspaces={workspaces.map(({ id, name, role }) => ({ id, name, role, allowed: request.scopes.filter((scope) => roleScopes[role].includes(scope)) }))}
          scopes={request.scopes.map((scope) => ({ name: scope, description: scopeDescriptions[scope] }))}
          offlineAccess={request.offlineAccess}
        />
      )}
    </main>
  );
}
