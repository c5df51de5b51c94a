import { parse } from "cookie";
import type { User } from "@/db/control/schema";
import { getConfig } from "../config";
import { HttpError } from "../http/errors";
import { clerkSignedIn } from "./clerk";
import { sessionCookieName } from "./cookies";
import { resolveSession, type SignedIn } from "./sessions";
import { AccountSuspendedError, isSuspended } from "./suspension";

/**
 * Who is signed in, by whichever provider this instance uses. Pages and handlers ask only
 * this (through requireUser / handler trust "user"), so adding Clerk means adding a provider
 * here, not touching pages.
 */
export interface AuthProvider {
  readonly id: "local" | "clerk";
  signedIn(readCookie: (name: string) => string | undefined): Promise<SignedIn | null>;
}

const localProvider: AuthProvider = {
  id: "local",
  signedIn: (readCookie) => resolveSession(readCookie(sessionCookieName())),
};

// Same SignedIn shape, so the one Principal model (lib/access/principal.ts) is unchanged.
const clerkProvider: AuthProvider = { id: "clerk", signedIn: clerkSignedIn };

export function getAuthProvider(): AuthProvider {
  switch (getConfig().ENCLAVE_AUTH_PROVIDER) {
    case "local":
      return localProvider;
    case "clerk":
      return clerkProvider;
  }
}

/**
 * A closing account (lib/lifecycle/closure.ts): the person asked to close it and the hold has
 * not run out. They may still sign in, but their session opens one page, CLOSING_PAGE, and one
 * endpoint, Cancel closure; everything else refuses it. The rule is applied where a session is
 * turned into a signed-in person — sessionFromCookies here (portal endpoints, /api/v1 with the
 * cookie, the consent answer) and getUser/requireUser (app/_server/auth.ts) for pages — never
 * page by page.
 */
export const CLOSING_PAGE = "/account/closing";

export const isClosingAccount = (user: Pick<User, "closureRequestedAt" | "closedAt">): boolean => user.closureRequestedAt !== null && user.closedAt === null;

export class AccountClosingError extends HttpError {
  constructor() {
    super(403, "account_closing", `Your account is closing. Sign in and open ${CLOSING_PAGE} to cancel the closure before using Enclave again.`);
  }
}

/** What a session may open: `any` only for the closing page and Cancel closure. */
export type AccountStates = "open" | "any";

/**
 * The person a request's cookies sign in, or null; a suspended account is refused
 * (AccountSuspendedError, lib/auth/suspension.ts) whatever `states` says, a closing one
 * (AccountClosingError) unless `states` is `any`.
 */
export async function sessionFromCookies(request: Request, states: AccountStates = "open"): Promise<SignedIn | null> {
  const cookies = parse(request.headers.get("cookie") ?? "");
  const signedIn = await getAuthProvider().signedIn((name) => cookies[name]);
  if (signedIn && isSuspended(signedIn.user)) throw new AccountSuspendedError();
  if (signedIn && states === "open" && isClosingAccount(signedIn.user)) throw new AccountClosingError();
  return signedIn;
}
