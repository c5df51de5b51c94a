import Link from "next/link";
import { ReauthForm } from "@/app/_components/reauth-form";
import { requireUser } from "@/app/_server/auth";
import { isMfaEnabled } from "@/lib/auth/mfa";
import { hasRecentReauth } from "@/lib/auth/reauth";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Your data · Enclave" };

/**
 * Account › Data. The download is a plain GET to /api/account/export (a form, so it looks like
 * the button it is): the browser saves the ZIP as it streams. It is offered only after the
 * person has confirmed their password in this session; the endpoint checks again.
 */
export default async function AccountDataPage() {
  const signedIn = await requireUser();
  const confirmed = await hasRecentReauth(signedIn);
  return (
    <>
      <p>
        <Link href="/account">← Account</Link>
      </p>
      <h1>Your data</h1>
      <h2>Download my data</h2>
      <p>
        A ZIP of everything this server keeps about you: your profile, sign-in sessions, workspace memberships, the team tokens you issued, the AI clients
        you connected, the audit records about you, and the full contents of every workspace you own. It never contains your password, any secret or
        hash, or your two-factor secret and backup codes. You can download it three times an hour.
      </p>
      {confirmed ? (
        <form method="get" action="/api/account/export" aria-label="Download my data">
          <p className="muted">Your password is confirmed for ten minutes in this session.</p>
          <button type="submit">Download my data</button>
        </form>
      ) : getConfig().clerk ? (
        // Clerk mode: a sign-in within the last ten minutes is the confirmation (lib/auth/reauth.ts).
        <form method="post" action="/api/auth/sign-out" aria-label="Sign in again">
          <p className="muted">To download your data, sign out and sign in again: a sign-in in the last ten minutes confirms it is you.</p>
          <button type="submit">Sign out to sign in again</button>
        </form>
      ) : (
        <ReauthForm mfa={isMfaEnabled(signedIn.user)} action="download your data" />
      )}
      <h2>Close my account</h2>
      <p>
        <Link href="/account/data/close">Close my account</Link>
      </p>
    </>
  );
}
