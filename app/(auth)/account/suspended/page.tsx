import { requireSuspendedUser } from "@/app/_server/auth";
import { SignOutForm } from "@/app/_components/sign-out-form";

export const metadata = { title: "Your account is suspended · Enclave" };

/**
 * The one page a suspended account reaches (every other page redirects here: getUser in
 * app/_server/auth.ts). Outside the portal layout, which would send it straight back here.
 */
export default async function SuspendedPage() {
  const { user } = await requireSuspendedUser();
  return (
    <>
      <h1>Your account is suspended</h1>
      <p>
        <strong>{user.email}</strong> has been suspended by the operator of this Enclave. Until they lift the suspension, nothing in Enclave is open to it: not the
        portal, not the team tokens you issued, not the AI clients you connected.
      </p>
      <p>Nothing was deleted or revoked: once the suspension is lifted, everything works again as it did.</p>
      <SignOutForm />
    </>
  );
}
