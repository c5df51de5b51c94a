import type { Config } from "../config";
import { consentCategoriesFor } from "../http/consent";
import { cookiesFor, type CookieContext, type CookieRow } from "../http/cookie-table";

/** The facts of this instance's configuration that decide which cookies it can set. */
export function cookieContext(config: Config): CookieContext {
  return {
    https: config.secureCookies,
    // A pk_test_ key is a Clerk development instance, which keeps its browser id in __clerk_db_jwt.
    clerk: config.clerk ? { development: config.clerk.publishableKey.startsWith("pk_test_") } : null,
    turnstile: config.TURNSTILE_SITE_KEY !== undefined,
    consentAsked: consentCategoriesFor(config).length > 0,
  };
}

/** Every cookie this instance can set, for /cookies. */
export const instanceCookies = (config: Config): CookieRow[] => cookiesFor(cookieContext(config));
