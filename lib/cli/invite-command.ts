import { z } from "zod";
import { invitableRoles } from "../access/invitations";
import { addMember } from "../access/members";
import { emailSchema } from "../auth/users";
import { getControlDb } from "../db/store";
import { operatorAccess, options, parse } from "./args";

/**
 * `enclave workspace invite`: the operator adds someone to a workspace the way an admin does,
 * through addMember, so the same rules hold (owner only by transfer, a member again is 409,
 * the plan's member limit is a 402). Loaded only when used: it brings the mailer.
 */
export async function runWorkspaceInviteCommand(args: string[]): Promise<void> {
  const { values } = options(args, ["workspace", "email", "role"]);
  const email = parse(emailSchema, values.email, "--email");
  const role = parse(z.enum(invitableRoles, { error: "give viewer, member or admin" }), values.role, "--role");
  await getControlDb();
  const access = await operatorAccess(values.workspace, "members");
  const { invitation, mailed, link } = await addMember(access, { email, role });
  console.log(`invited ${invitation.email} as ${role} to workspace ${access.workspaceId}: invitation ${invitation.id}, expires ${new Date(invitation.expiresAt).toISOString()}`);
  if (mailed) {
    console.log("the link was mailed to them");
  } else {
    console.log("mail is off (or failed), so pass this link on yourself; it works once, only for that email, and is not shown again:");
    console.log(link);
  }
}
