import Link from "next/link";
import { VerifyEmailButton } from "@/app/_components/verify-email-button";

export const metadata = { title: "Confirm your email · Enclave", referrer: "no-referrer" };

/** The verification link's page: the token is used by the button's POST, never by opening the page. */
export default async function VerifyEmailPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await searchParams;
  return (
    <>
      <h1>Confirm your email</h1>
      {typeof token === "string" && token.length > 0 ? (
        <VerifyEmailButton token={token} />
      ) : (
        <p>This link has no token. Send a new one from your account page.</p>
      )}
      <p>
        <Link href="/account">Your account</Link>
      </p>
    </>
  );
}
