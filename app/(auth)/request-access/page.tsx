import Link from "next/link";
import { cookies } from "next/headers";
import { RequestAccessForm } from "@/app/_components/request-access-form";
import { signUpMode } from "@/lib/auth/signup-policy";
import { getConfig } from "@/lib/config";

export const metadata = { title: "Request access · Enclave" };

/**
 * Whether the person allowed Turnstile: the first-party consent cookie (the /cookies page sets
 * it) lists what they agreed to. Nothing non-essential loads before that.
 */
function consentsToTurnstile(value: string | undefined): boolean {
  return (value ?? "").split(/[\s,|]+/).includes("turnstile");
}

export default async function RequestAccessPage() {
  if (signUpMode() === "open") {
    return (
      <>
        <h1>Request access</h1>
        <p>
          Sign-up is open here: <Link href="/sign-up">create an account</Link>.
        </p>
      </>
    );
  }
  const siteKey = getConfig().TURNSTILE_SITE_KEY;
  const consented = consentsToTurnstile((await cookies()).get("enclave_consent")?.value);
  return (
    <>
      <h1>Request access</h1>
      <p>Ask the operator of this Enclave for an account. If they approve, an invitation goes to your address.</p>
      {siteKey && !consented ? (
        <p role="status">
          This form is protected by Cloudflare Turnstile, which loads only once you allow it on the <Link href="/cookies">cookies page</Link>.
        </p>
      ) : (
        <RequestAccessForm turnstileSiteKey={siteKey} />
      )}
      <p>
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </>
  );
}
