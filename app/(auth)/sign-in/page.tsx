import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { SignInForm } from "@/app/_components/sign-in-form";

export const metadata = { title: "Sign in · Enclave" };

export default async function SignInPage() {
  if (await getUser()) redirect("/workspaces");
  return (
    <>
      <h1>Sign in</h1>
      <SignInForm />
      <p>
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </>
  );
}
