import { parse } from "cookie";
import { getConfig } from "../config";
import { sessionCookieName } from "./cookies";
import { resolveSession, type SignedIn } from "./sessions";

/**
 * Who is signed in, by whichever provider this instance uses. Pages and handlers ask only
 * this (through requireUser / handler trust "user"), so adding Clerk means adding a provider
 * here, not touching pages.
 */
export interface AuthProvider {
  readonly id: "local";
  signedIn(readCookie: (name: string) => string | undefined): Promise<SignedIn | null>;
}

const localProvider: AuthProvider = {
  id: "local",
  signedIn: (readCookie) => resolveSession(readCookie(sessionCookieName())),
};

export function getAuthProvider(): AuthProvider {
  switch (getConfig().ENCLAVE_AUTH_PROVIDER) {
    case "local":
      return localProvider;
  }
}

/** The person a request's cookies sign in, or null. */
export function sessionFromCookies(request: Request): Promise<SignedIn | null> {
  const cookies = parse(request.headers.get("cookie") ?? "");
  return getAuthProvider().signedIn((name) => cookies[name]);
}
