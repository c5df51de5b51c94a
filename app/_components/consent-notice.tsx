import { cookies } from "next/headers";
import { getConfig } from "@/lib/config";
import { CONSENT_CATEGORIES, consentCategoriesFor, readConsent } from "@/lib/http/consent";
import { ConsentChoice, type ConsentOption } from "./consent-choice";

/** The options this instance could ask about, with their words, for the banner and /cookies. */
export function consentOptions(): ConsentOption[] {
  return consentCategoriesFor(getConfig()).map((id) => ({ id, ...CONSENT_CATEGORIES[id] }));
}

/**
 * The consent banner, in the root layout: shown only where something non-essential could load
 * on this instance (a Turnstile key is set) and the visitor has not chosen yet. Elsewhere it
 * renders nothing, so a plain instance never shows a banner at all.
 */
export async function ConsentNotice() {
  const options = consentOptions();
  if (options.length === 0 || readConsent(await cookies()) !== null) return null;
  return <ConsentChoice options={options} https={getConfig().secureCookies} banner />;
}
