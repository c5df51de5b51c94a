import type { User } from "@/db/control/schema";
import { HttpError } from "../http/errors";

/**
 * Suspension by the operator (POST /api/operator/users/{userId}/suspend): while
 * users.suspended_at is set, nothing the person holds opens anything — their portal sessions,
 * the team tokens they issued, their AI clients' grants — from the next request on. Nothing is
 * revoked or deleted, so unsuspending gives every one of them back as it was. The rule is this
 * one predicate, applied where each credential is turned into a principal: sessionFromCookies
 * (lib/auth/provider.ts) and getUser (app/_server/auth.ts) for sessions, bearer.ts for team
 * and OAuth access tokens, the refresh grant (lib/oauth/grants.ts), and sign-in.
 */
export const SUSPENDED_PAGE = "/account/suspended";

export const isSuspended = (user: Pick<User, "suspendedAt">): boolean => user.suspendedAt !== null;

export class AccountSuspendedError extends HttpError {
  constructor() {
    super(403, "account_suspended", "Your account has been suspended by the operator of this Enclave. Ask them to lift the suspension.");
  }
}
