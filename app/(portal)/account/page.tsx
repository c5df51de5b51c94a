import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { MfaPanel } from "@/app/_components/mfa-panel";
import { isMfaEnabled } from "@/lib/auth/mfa";

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
      <MfaPanel enabled={isMfaEnabled(user)} />
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
