import Link from "next/link";
import { ForgotPasswordForm } from "@/app/_components/forgot-password-form";
import { mailEnabled } from "@/lib/mail/mailer";

export const metadata = { title: "Forgot password · Enclave" };

/** With SMTP, a mailed link; without, the operator resets it (`enclave user reset-password`). */
export default function ForgotPasswordPage() {
  return (
    <>
      <h1>Forgot your password?</h1>
      {mailEnabled() ? (
        <>
          <p>Enter the email you sign in with. If it has an account, we mail it a link to choose a new password (it works once, within 30 minutes).</p>
          <ForgotPasswordForm />
        </>
      ) : (
        <p>
          This Enclave does not send mail, so it cannot send you a reset link. Ask whoever runs it to reset your password: they run{" "}
          <code>enclave user reset-password --email you@example.com</code> and pass the new password on to you.
        </p>
      )}
      <p>
        <Link href="/sign-in">Back to sign in</Link>
      </p>
    </>
  );
}
