import Link from "next/link";
import { AcceptInvitationButton } from "@/app/_components/accept-invitation-button";
import { getUser } from "@/app/_server/auth";
import { previewInvitation } from "@/lib/access/invitations";
import { signUpMode } from "@/lib/auth/signup-policy";

export const metadata = { title: "Invitation · Enclave" };

const STATE_TEXT = {
  used: "This invitation has already been used.",
  revoked: "This invitation was withdrawn. Ask for a new one.",
  expired: "This invitation has expired. Ask for a new one.",
} as const;

/**
 * What an invitation link opens: the workspace and role it is for (never the invited address,
 * which whoever holds the link may not be), and the way in: accept when signed in, else sign up
 * or sign in carrying the token.
 */
export default async function InvitePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).token;
  const token = typeof raw === "string" ? raw.trim() : "";
  const preview = token ? await previewInvitation(token) : null;
  if (!preview) {
    return (
      <>
        <h1>Invitation</h1>
        <p role="alert">This invitation link is not valid. Ask for a new one.</p>
      </>
    );
  }
  if (preview.state !== "pending") {
    return (
      <>
        <h1>Invitation</h1>
        <p role="alert">{STATE_TEXT[preview.state]}</p>
      </>
    );
  }
  const user = await getUser();
  const here = `/invite?token=${encodeURIComponent(token)}`;
  const what = preview.workspaceName ? (
    <p>
      You are invited to the workspace <strong>{preview.workspaceName}</strong> as <strong>{preview.role}</strong>.
    </p>
  ) : (
    <p>You may create an account on this Enclave.</p>
  );
  return (
    <>
      <h1>Invitation</h1>
      {what}
      {user ? (
        <>
          <p>
            Signed in as {user.user.email}. The invitation works only for the address it was sent to.
          </p>
          {preview.workspaceName ? <AcceptInvitationButton token={token} /> : <Link href="/workspaces">Go to your workspaces</Link>}
        </>
      ) : (
        <p>
          <Link href={`/sign-up?invitation=${encodeURIComponent(token)}`}>Create an account</Link> with the invited address
          {signUpMode() === "closed" && preview.workspaceName ? " (sign-up is closed here: ask the operator for an account)" : ""}, or{" "}
          <Link href={`/sign-in?returnTo=${encodeURIComponent(here)}`}>sign in</Link> and come back to this link.
        </p>
      )}
    </>
  );
}
