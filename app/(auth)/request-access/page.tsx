import Link from "next/link";
import { cookies } from "next/headers";
import { RequestAccessForm } from "@/app/_components/request-access-form";
import { signUpMode } from "@/lib/auth/signup-policy";
import { getConfig } from "@/lib/config";
import { hasConsent } from "@/lib/http/consent";

export const metadata = { title: "Request access · Enclave" };

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
  // Turnstile is a third party's script: it loads only once the person allowed it (the first-party consent cookie, lib/http/consent.ts).
  const consented = hasConsent(await cookies(), "turnstile");
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
