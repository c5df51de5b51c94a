export const metadata = { title: "No account here · Enclave" };

const REASONS: Record<string, string> = {
  sign_up_closed: "This Enclave is not taking new accounts. Ask its operator for access.",
  invitation_required: "This Enclave opens accounts by invitation only, and there is no pending invitation for your email. Ask an admin of your team to invite you.",
  email_unverified: "Your sign-in has no verified email address yet. Verify it, then sign in again.",
  email_taken: "Another account already uses your email address. Ask the operator of this Enclave.",
};

/**
 * Clerk mode: the person signed in with Clerk, but ENCLAVE_SIGNUP (or a clash of emails) keeps
 * them from having an account here (lib/auth/clerk-users.ts). It reads nothing: getUser would
 * refuse them again and send them straight back.
 */
export default async function NotAdmittedPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const reason = (await searchParams).reason;
  return (
    <>
      <h1>No account for you here yet</h1>
      <p>{(typeof reason === "string" && REASONS[reason]) || REASONS.sign_up_closed}</p>
      <form method="post" action="/api/auth/sign-out">
        <button type="submit" className="secondary">
          Sign out
        </button>
      </form>
    </>
  );
}
