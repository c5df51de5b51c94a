import { SignIn } from "@clerk/nextjs";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { SignInForm } from "@/app/_components/sign-in-form";
import { safeReturnPath } from "@/lib/auth/return-to";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Sign in · Enclave" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const returnTo = safeReturnPath((await searchParams).returnTo);
  if (await getUser()) redirect(returnTo);
  // Clerk mode: Clerk's own component (hash routing, so /sign-in stays one route); back to returnTo after.
  if (getConfig().clerk) return <SignIn routing="hash" signUpUrl="/sign-up" forceRedirectUrl={returnTo} />;
  return (
    <>
      <h1>Sign in</h1>
      <SignInForm returnTo={returnTo} />
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </>
  );
}
