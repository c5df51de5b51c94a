/**
 * Every cookie this instance can cause a browser to hold, in one table: /cookies renders it,
 * and the code that sets Enclave's own cookies takes their names from here, so the page cannot
 * fall behind the code (test/cookie-table.test.ts greps the source to hold both to it, and
 * checks the Clerk rows against @clerk/backend's own list of names).
 *
 * `when` says on which instances a row applies; /cookies shows only the rows that apply to
 * this one (cookiesFor). A leaf of lib/http: it knows no config, only the facts it is given.
 */
export const SESSION_COOKIE = {
  /** https public URL: Secure, Path=/, no Domain, so the `__Host-` prefix holds (lib/auth/cookies.ts). */
  https: "__Host-enclave_session",
  /** A plain-http loopback URL (the embedded default), where not every browser accepts Secure. */
  http: "enclave_session",
} as const;

/** The first-party record of what a visitor allowed beyond the essential (lib/http/consent.ts). */
export const CONSENT_COOKIE = "enclave_consent";

export type CookieWhen =
  /** an https public URL */
  | "https"
  /** a plain-http loopback public URL */
  | "http"
  /** ENCLAVE_AUTH_PROVIDER=clerk */
  | "clerk"
  /** Clerk with a development instance (a pk_test_ key) */
  | "clerk-development"
  /** something non-essential could load, so visitors are asked */
  | "consent-asked"
  /** TURNSTILE_SITE_KEY is set, and only after the visitor allowed it */
  | "turnstile-after-consent";

export type CookieRow = {
  readonly name: string;
  readonly setBy: "Enclave" | "Clerk" | "Cloudflare";
  /** Where it lives: this site, or a third party's own origin (which this site cannot read). */
  readonly site: "this site" | "Clerk's Frontend API" | "challenges.cloudflare.com";
  readonly purpose: string;
  readonly lifetime: string;
  readonly essential: boolean;
  readonly when: CookieWhen;
};

export const COOKIE_TABLE: readonly CookieRow[] = [
  {
    name: SESSION_COOKIE.https,
    setBy: "Enclave",
    site: "this site",
    purpose: "Keeps you signed in. Holds a random session id whose SHA-256 hash is all the server keeps. HttpOnly, Secure, SameSite=Lax.",
    lifetime: "until sign-out, the idle timeout or the session's maximum age, whichever comes first",
    essential: true,
    when: "https",
  },
  {
    name: SESSION_COOKIE.http,
    setBy: "Enclave",
    site: "this site",
    purpose: "Keeps you signed in (the same cookie without the __Host- prefix, on a plain-http localhost address). HttpOnly, SameSite=Lax.",
    lifetime: "until sign-out, the idle timeout or the session's maximum age, whichever comes first",
    essential: true,
    when: "http",
  },
  {
    name: CONSENT_COOKIE,
    setBy: "Enclave",
    site: "this site",
    purpose: "Remembers which optional services you allowed (or that you allowed none), so the question is asked once. Holds only the list of choices.",
    lifetime: "1 year",
    essential: true,
    when: "consent-asked",
  },
  {
    name: "__session",
    setBy: "Clerk",
    site: "this site",
    purpose: "Clerk's short-lived session token (a signed JWT), which this server verifies on every request. A copy may carry a suffix naming the Clerk instance.",
    lifetime: "about a minute; Clerk's script renews it while a page is open",
    essential: true,
    when: "clerk",
  },
  {
    name: "__client_uat",
    setBy: "Clerk",
    site: "this site",
    purpose: "When you last signed in or out with Clerk, so the server knows whether a session token should be there. A copy may carry a suffix naming the Clerk instance.",
    lifetime: "long-lived (Clerk renews it on sign-in and sign-out)",
    essential: true,
    when: "clerk",
  },
  {
    name: "__refresh",
    setBy: "Clerk",
    site: "this site",
    purpose: "Lets Clerk's middleware renew an expired session token without a round trip to Clerk, where Clerk uses it.",
    lifetime: "as Clerk's session",
    essential: true,
    when: "clerk",
  },
  {
    name: "__clerk_handshake",
    setBy: "Clerk",
    site: "this site",
    purpose: "Carries a fresh session from Clerk back to this site during a sign-in handshake.",
    lifetime: "seconds (removed when the handshake ends)",
    essential: true,
    when: "clerk",
  },
  {
    name: "__clerk_handshake_nonce",
    setBy: "Clerk",
    site: "this site",
    purpose: "Ties a sign-in handshake to this browser.",
    lifetime: "seconds (removed when the handshake ends)",
    essential: true,
    when: "clerk",
  },
  {
    name: "__clerk_redirect_count",
    setBy: "Clerk",
    site: "this site",
    purpose: "Counts handshake redirects so a misconfiguration cannot loop for ever.",
    lifetime: "seconds",
    essential: true,
    when: "clerk",
  },
  {
    name: "__clerk_db_jwt",
    setBy: "Clerk",
    site: "this site",
    purpose: "Identifies this browser to a Clerk development instance (development instances cannot use cookies on Clerk's own domain).",
    lifetime: "until cleared",
    essential: true,
    when: "clerk-development",
  },
  {
    name: "__client",
    setBy: "Clerk",
    site: "Clerk's Frontend API",
    purpose: "Your sign-in with Clerk itself, from which the session tokens above are made. HttpOnly, Secure, on Clerk's domain: this site cannot read it.",
    lifetime: "as the session lifetime set in Clerk's dashboard",
    essential: true,
    when: "clerk",
  },
  {
    name: "cf_clearance",
    setBy: "Cloudflare",
    site: "challenges.cloudflare.com",
    purpose: "Cloudflare Turnstile, the bot check on the request-access form, runs in a frame from Cloudflare and may keep its own state there, such as this clearance cookie. Loaded only after you allow it.",
    lifetime: "set by Cloudflare",
    essential: false,
    when: "turnstile-after-consent",
  },
];

/** What decides which rows apply: the instance's configuration, reduced to these facts. */
export type CookieContext = {
  https: boolean;
  clerk: { development: boolean } | null;
  turnstile: boolean;
  /** Some non-essential service could load here, so the consent cookie can be set. */
  consentAsked: boolean;
};

const applies: Record<CookieWhen, (context: CookieContext) => boolean> = {
  https: (context) => context.https,
  http: (context) => !context.https,
  clerk: (context) => context.clerk !== null,
  "clerk-development": (context) => context.clerk?.development === true,
  "consent-asked": (context) => context.consentAsked,
  "turnstile-after-consent": (context) => context.turnstile,
};

/** The rows that apply to an instance configured as `context`, in table order. */
export function cookiesFor(context: CookieContext): CookieRow[] {
  return COOKIE_TABLE.filter((row) => applies[row.when](context));
}
