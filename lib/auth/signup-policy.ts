import { getConfig } from "../config";
import { HttpError } from "../http/errors";

/**
 * Who may create an account through the sign-up endpoint (ENCLAVE_SIGNUP), the one place this
 * is decided:
 *   open    anyone (the default when ENCLAVE_PUBLIC_URL is loopback);
 *   invite  only with a usable invitation for that same email: a workspace admin's, or the
 *           sign-up pass an operator's approval of an access request issued;
 *   closed  only with an operator's sign-up pass; an admin's workspace invitation then reaches
 *           people who already have an account.
 * The operator's `enclave user create` is not sign-up and is never limited by this: it is how
 * the first account is made on an instance that is not open (there is no first-comer
 * exception: on a public address the first comer is anyone).
 *
 * The invitation itself (that it exists, is for this email, is pending) is checked by
 * lib/access/sign-up.ts before it asks here.
 */
export type SignUpMode = "open" | "invite" | "closed";
export const signUpMode = (): SignUpMode => getConfig().ENCLAVE_SIGNUP;

/** A usable invitation for the signing-up email: a workspace's, or the operator's sign-up pass (workspaceId null). */
export type PresentedInvitation = { workspaceId: string | null } | null;

const closed = () => new HttpError(403, "signup_closed", "Sign-up is closed on this instance. You can ask for access at /request-access.");
const inviteOnly = () => new HttpError(403, "invitation_required", "Sign-up here is by invitation only: open the invitation link you were sent, or ask for access at /request-access.");

export function assertMaySignUp(invitation: PresentedInvitation, mode: SignUpMode = signUpMode()): void {
  if (mode === "open") return;
  if (!invitation) throw mode === "closed" ? closed() : inviteOnly();
  if (mode === "closed" && invitation.workspaceId !== null) throw closed();
}
