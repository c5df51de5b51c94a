import { z } from "zod";
import { assertMaySignUp } from "../auth/signup-policy";
import type { User } from "@/db/control/schema";
import { createUser, credentialsSchema } from "../auth/users";
import { mailEnabled } from "../mail/mailer";
import { acceptInvitation, invitationTokenSchema, usableInvitationFor } from "./invitations";

/** The sign-up body: credentials and, through an /invite link, that link's token. */
export const signUpSchema = credentialsSchema.extend({ invitation: invitationTokenSchema.optional() });
export type SignUpInput = z.infer<typeof signUpSchema>;

export type SignUpResult = { user: User; invitation: { workspaceId: string | null; joined: boolean } | null };

/**
 * Sign-up as ENCLAVE_SIGNUP allows (lib/auth/signup-policy.ts), refused before any password is
 * hashed. A presented invitation must be usable for this email in every mode: whoever follows
 * a link expects to join. Once the account exists, an operator's sign-up pass is used up, and
 * a workspace invitation is accepted at once, unless mail is on: then the address must be
 * verified first (the same /invite link works after that).
 */
export async function signUp(input: SignUpInput): Promise<SignUpResult> {
  const invitation = input.invitation ? await usableInvitationFor(input.invitation, input.email) : null;
  assertMaySignUp(invitation);
  const user = await createUser({ email: input.email, password: input.password });
  if (!invitation || !input.invitation) return { user, invitation: null };
  if (invitation.workspaceId !== null && mailEnabled()) return { user, invitation: { workspaceId: invitation.workspaceId, joined: false } };
  const accepted = await acceptInvitation(user.id, input.invitation, { requireVerifiedEmail: false });
  return { user, invitation: { workspaceId: accepted.workspaceId, joined: accepted.workspaceId !== null } };
}
