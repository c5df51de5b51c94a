import Link from "next/link";
import { redirect } from "next/navigation";
import { getUser } from "@/app/_server/auth";
import { SignUpForm } from "@/app/_components/sign-up-form";

export const metadata = { title: "Create account · Enclave" };

export default async function SignUpPage() {
  if (await getUser()) redirect("/workspaces");
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
