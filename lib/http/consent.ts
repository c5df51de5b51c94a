import { parse, serialize } from "cookie";
import { z } from "zod";
import type { Config } from "../config";
import { CONSENT_COOKIE } from "./cookie-table";

/**
 * Consent for what is not essential (a third party's script: Cloudflare Turnstile, later a
 * payment provider's). Nothing non-essential loads until `hasConsent` says so: a page that
 * would load one asks here first, on the server, and renders nothing of it otherwise.
 *
 * The choice is one first-party cookie, `enclave_consent`, written by the banner in the
 * browser (app/_components/consent-choice.tsx; no inline script, so the CSP stays as it is) and read by the
 * server. Its value is `v1:` and the allowed categories joined by `+`, or `v1:none`. Anything
 * else — a forged, truncated or older-format value — counts as no choice: the visitor is asked
 * again and nothing optional loads meanwhile.
 */
export const CONSENT_CATEGORIES = {
  turnstile: {
    label: "Cloudflare Turnstile",
    description: "A bot check on the request-access form. It loads a script and a frame from challenges.cloudflare.com, which may set Cloudflare's own cookies.",
  },
} as const;

export type ConsentCategory = keyof typeof CONSENT_CATEGORIES;

const CATEGORY_NAMES = Object.keys(CONSENT_CATEGORIES) as [ConsentCategory, ...ConsentCategory[]];
const VERSION = "v1:";
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

const consentValueSchema = z
  .string()
  .max(200)
  .startsWith(VERSION)
  .transform((value) => value.slice(VERSION.length))
  .pipe(z.union([z.literal("none").transform(() => []), z.string().transform((list) => list.split("+")).pipe(z.array(z.enum(CATEGORY_NAMES)).min(1))]));

/** The categories a visitor allowed (possibly none), or null when they have not chosen. */
export function parseConsent(value: string | undefined): Set<ConsentCategory> | null {
  if (value === undefined) return null;
  const parsed = consentValueSchema.safeParse(value);
  return parsed.success ? new Set(parsed.data) : null;
}

/** Next's cookies() store, or anything else that reads one cookie by name. */
export type CookieReader = { get(name: string): { value: string } | undefined };

function consentValue(cookies: string | null | undefined | CookieReader): string | undefined {
  if (cookies === null || cookies === undefined) return undefined;
  return typeof cookies === "string" ? parse(cookies)[CONSENT_COOKIE] : cookies.get(CONSENT_COOKIE)?.value;
}

/** The visitor's choice, from a Cookie header or a cookie store; null when none was made. */
export function readConsent(cookies: string | null | undefined | CookieReader): Set<ConsentCategory> | null {
  return parseConsent(consentValue(cookies));
}

/** True only when the visitor allowed `category`: no cookie, a bad one, or "none" is false. */
export function hasConsent(cookies: string | null | undefined | CookieReader, category: ConsentCategory): boolean {
  return readConsent(cookies)?.has(category) ?? false;
}

/** The Set-Cookie / document.cookie text recording `allowed` for a year. */
export function consentCookie(allowed: readonly ConsentCategory[], options: { https: boolean }): string {
  const categories = CATEGORY_NAMES.filter((name) => allowed.includes(name));
  return serialize(CONSENT_COOKIE, `${VERSION}${categories.length > 0 ? categories.join("+") : "none"}`, {
    maxAge: ONE_YEAR_SECONDS,
    path: "/",
    sameSite: "lax",
    secure: options.https,
  });
}

/** What could load on this instance that needs consent first; empty means no banner at all. */
export function consentCategoriesFor(config: Pick<Config, "TURNSTILE_SITE_KEY">): ConsentCategory[] {
  return config.TURNSTILE_SITE_KEY !== undefined ? ["turnstile"] : [];
}
