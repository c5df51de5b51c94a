import "server-only";
import { cookies } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { getAuthProvider } from "@/lib/auth/provider";
import type { SignedIn } from "@/lib/auth/sessions";
import { noteActor } from "@/lib/http/context";
import { getWorkspaceForMember, type WorkspaceSummary } from "@/lib/workspace/workspaces";

/** The signed-in person, or null; looked up once per request however many components ask. */
export const getUser = cache(async (): Promise<SignedIn | null> => {
  const jar = await cookies();
  const signedIn = await getAuthProvider().signedIn((name) => jar.get(name)?.value);
  if (signedIn) noteActor(`user:${signedIn.user.id}`);
  return signedIn;
});

/** The signed-in person; anyone else is sent to sign in. Every portal page calls this itself. */
export async function requireUser(): Promise<SignedIn> {
  const signedIn = await getUser();
  if (!signedIn) redirect("/sign-in");
  return signedIn;
}

/** A workspace the person belongs to; one they do not (or that does not exist) is a 404. */
export async function requireWorkspaceMember(workspaceId: string): Promise<SignedIn & { workspace: WorkspaceSummary }> {
  const signedIn = await requireUser();
  const workspace = await getWorkspaceForMember(signedIn.user.id, workspaceId);
  if (!workspace) notFound();
  noteActor(`user:${signedIn.user.id}`, workspace.id);
  return { ...signedIn, workspace };
}
