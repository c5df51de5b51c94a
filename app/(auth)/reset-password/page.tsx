import Link from "next/link";
import { ResetPasswordForm } from "@/app/_components/reset-password-form";

export const metadata = { title: "Choose a new password · Enclave", referrer: "no-referrer" };

/** The mailed link's page. The token stays in the query string (server.ts logs only the path) and is checked on submit. */
export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Choose a new password</h1>
      {typeof token === "string" && token.length > 0 ? (
        <>
          <p>Every session of your account is signed out when the new password is set. Two-factor authentication, if it is on, stays on.</p>
          <ResetPasswordForm token={token} />
        </>
      ) : (
        <p>
          This link has no token. <Link href="/forgot-password">Ask for a new link</Link>.
        </p>
      )}
    </>
  );
}
