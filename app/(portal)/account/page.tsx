import Link from "next/link";
import { requireUser } from "@/app/_server/auth";
import { ChangePasswordForm } from "@/app/_components/change-password-form";
import { MfaPanel } from "@/app/_components/mfa-panel";
import { ResendVerificationButton } from "@/app/_components/resend-verification-button";
import { SessionsTable } from "@/app/_components/sessions-table";
import { formatTime } from "@/app/_components/format";
import { listAccountSessions } from "@/lib/auth/account-sessions";
import { isMfaEnabled } from "@/lib/auth/mfa";
import { getConfig } from "@/lib/config";
import { mailEnabled } from "@/lib/mail/mailer";

export const metadata = { title: "Account · Enclave" };

export default async function AccountPage() {
  const signedIn = await requireUser();
  const { user } = signedIn;
  // Password, email and sessions are Enclave's own only with local sign-in; with Clerk they are Clerk's.
  const local = getConfig().ENCLAVE_AUTH_PROVIDER === "local";
  const sessions = local ? await listAccountSessions(signedIn) : [];
  return (
    <>
      <h1>Account</h1>
      <p>
        Signed in as <strong>{user.email}</strong>
      </p>
      {local ? (
        <>
          <h2>Email</h2>
          <EmailSection verifiedAt={user.emailVerifiedAt} />
          <h2>Password</h2>
          <p className="muted">Changing it signs out every other session.</p>
          <ChangePasswordForm mfaEnabled={isMfaEnabled(user)} />
        </>
      ) : null}
      <h2>Two-factor authentication</h2>
      {local ? <MfaPanel enabled={isMfaEnabled(user)} /> : (
        // Clerk mode: the password and second factor live at Clerk (its account settings); Enclave's own MFA endpoints are off.
        <p>Your sign-in methods and two-factor authentication are managed by this Enclave&apos;s sign-in provider, Clerk.</p>
      )}
      {local ? (
        <>
          <h2>Sessions</h2>
          <SessionsTable sessions={sessions} />
        </>
      ) : null}
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

function EmailSection({ verifiedAt }: { verifiedAt: number | null }) {
  if (!mailEnabled()) return <p className="muted">This Enclave sends no mail, so email verification and security notices are off.</p>;
  if (verifiedAt !== null) {
    return (
      <p>
        Your email is confirmed (since {formatTime(verifiedAt)}). Security notices — a password change, two-factor turned off, a sign-in from a
        new device — are mailed to it.
      </p>
    );
  }
  return (
    <>
      <p>Your email is not confirmed yet: open the link we mailed you. Security notices are mailed to it either way.</p>
      <ResendVerificationButton />
    </>
  );
}
