import { SignUp } from "@clerk/nextjs";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { SignUpForm } from "@/app/_components/sign-up-form";
import { getConfig } from "@/lib/config";
import { signUpMode } from "@/lib/auth/signup-policy";

export const metadata = { title: "Create account · Enclave" };

/** The form when sign-up is open or the person carries an invitation; otherwise what the mode says and where to ask. The API decides again. */
export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  if (await getUser()) redirect("/workspaces");
  // Clerk mode: Clerk creates the identity; whether it may become an Enclave account is still ENCLAVE_SIGNUP's call (lib/auth/clerk-users.ts).
  if (getConfig().clerk) return <SignUp routing="hash" signInUrl="/sign-in" forceRedirectUrl="/workspaces" />;
  const raw = (await searchParams).invitation;
  const invitation = typeof raw === "string" && raw.length <= 200 ? raw : undefined;
  const mode = signUpMode();
  const signIn = (
    <p>
      Already have an account? <Link href="/sign-in">Sign in</Link>
    </p>
  );
  if (mode !== "open" && !invitation) {
    return (
      <>
        <h1>Create account</h1>
        <p role="status">
          {mode === "invite" ? "Sign-up here is by invitation only: open the invitation link you were sent." : "Sign-up is closed on this instance."}
        </p>
        <p>
          No invitation? <Link href="/request-access">Request access</Link>
        </p>
        {signIn}
      </>
    );
  }
  return (
    <>
      <h1>Create account</h1>
      {invitation && <p className="muted">Use the email address the invitation was sent to.</p>}
      <SignUpForm invitation={invitation} />
      {signIn}
    </>
  );
}
