import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { MfaPanel } from "@/app/_components/mfa-panel";
import { isMfaEnabled } from "@/lib/auth/mfa";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Account · Enclave" };

export default async function AccountPage() {
  const { user } = await requireUser();
  return (
    <>
      <h1>Account</h1>
      <p>
        Signed in as <strong>{user.email}</strong>
      </p>
      <h2>Two-factor authentication</h2>
      {getConfig().clerk ? (
        // Clerk mode: the password and second factor live at Clerk (its account settings); Enclave's own MFA endpoints are off.
        <p>Your sign-in methods and two-factor authentication are managed by this Enclave&apos;s sign-in provider, Clerk.</p>
      ) : (
        <MfaPanel enabled={isMfaEnabled(user)} />
      )}
      <h2>Connected AI clients</h2>
      <p>
        <Link href="/account/clients">See and revoke the AI clients you connected</Link>
      </p>
      <h2>Activity</h2>
      <p>
        <Link href="/account/activity">Your sign-ins, security changes, tokens and connected clients</Link>
      </p>
      <h2>Data</h2>
      <p>
        <Link href="/account/data">Download your data, or close your account</Link>
      </p>
    </>
  );
}
