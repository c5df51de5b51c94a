import { SignUp } from "@clerk/nextjs";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { SignUpForm } from "@/app/_components/sign-up-form";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Create account · Enclave" };

export default async function SignUpPage() {
  if (await getUser()) redirect("/workspaces");
  // Clerk mode: Clerk creates the identity; whether it may become an Enclave account is still ENCLAVE_SIGNUP's call (lib/auth/clerk-users.ts).
  if (getConfig().clerk) return <SignUp routing="hash" signInUrl="/sign-in" forceRedirectUrl="/workspaces" />;
  return (
    <>
      <h1>Create account</h1>
      <SignUpForm />
      <p>
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </>
  );
}
