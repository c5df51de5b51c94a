import { requireClosingUser } from "@/app/_server/auth";
import { SignOutForm } from "@/app/_components/sign-out-form";
import { CancelClosureButton } from "@/app/_components/cancel-closure-button";
import { formatTime } from "@/app/_components/format";

export const metadata = { title: "Your account is closing · Enclave" };

/**
 * The one page a closing account reaches (every other page redirects here: getUser in
 * app/_server/auth.ts). Outside the portal layout, which would send it straight back here.
 */
export default async function ClosingPage() {
  const { user } = await requireClosingUser();
  return (
    <>
      <h1>Your account closes on {formatTime(user.purgeAt)}</h1>
      <p>
        You asked to close <strong>{user.email}</strong> on {formatTime(user.closureRequestedAt)}. On that date it is erased, with the workspaces deleted with it; until then
        nothing else in Enclave is open to it.
      </p>
      <p>Cancel the closure to keep your account. Your workspaces come back; the team tokens and AI clients that were revoked stay revoked.</p>
      <CancelClosureButton />
      <SignOutForm />
    </>
  );
}
