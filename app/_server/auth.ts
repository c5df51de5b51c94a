import "server-only";
import { cookies } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { authorize, type WorkspaceAccess } from "@/lib/access/authorize";
import type { Scope } from "@/lib/access/scopes";
import { NOT_ADMITTED_PAGE, SignUpRefusedError } from "@/lib/auth/clerk-users";
import { CLOSING_PAGE, getAuthProvider, isClosingAccount } from "@/lib/auth/provider";
import type { SignedIn } from "@/lib/auth/sessions";
import { isSuspended, SUSPENDED_PAGE } from "@/lib/auth/suspension";
import { HttpError } from "@/lib/http/errors";
import { noteActor } from "@/lib/log/request-context";
import { getWorkspaceForMember, type WorkspaceSummary } from "@/lib/workspace/workspaces";

/** The session's person in whatever state their account is; looked up once per request however many components ask. */
const getSession = cache(async (): Promise<SignedIn | null> => {
  const jar = await cookies();
  const signedIn = await getAuthProvider()
    .signedIn((name) => jar.get(name)?.value)
    .catch((error: unknown) => {
      // Clerk mode: signed in with Clerk, but not admitted here (ENCLAVE_SIGNUP): one page says why.
      if (error instanceof SignUpRefusedError) redirect(`${NOT_ADMITTED_PAGE}?reason=${error.reason}`);
      throw error;
    });
  if (signedIn) noteActor(`user:${signedIn.user.id}`);
  return signedIn;
});

/**
 * The signed-in person, or null. A suspended account (lib/auth/suspension.ts) and a closing
 * one (lib/auth/provider.ts) are each sent to the one page they may see, from every page that
 * asks, so no page can forget it.
 */
export async function getUser(): Promise<SignedIn | null> {
  const signedIn = await getSession();
  if (signedIn && isSuspended(signedIn.user)) redirect(SUSPENDED_PAGE);
  if (signedIn && isClosingAccount(signedIn.user)) redirect(CLOSING_PAGE);
  return signedIn;
}

/** The signed-in person; anyone else is sent to sign in. Every portal page calls this itself. */
export async function requireUser(): Promise<SignedIn> {
  const signedIn = await getUser();
  if (!signedIn) redirect("/sign-in");
  return signedIn;
}

/** For the closing page alone: a closing account's person; anyone signed in otherwise goes back to the portal. */
export async function requireClosingUser(): Promise<SignedIn> {
  const signedIn = await getSession();
  if (!signedIn) redirect("/sign-in");
  if (!isClosingAccount(signedIn.user)) redirect("/workspaces");
  return signedIn;
}

/** For the suspended page alone: a suspended person; anyone signed in otherwise goes back to the portal. */
export async function requireSuspendedUser(): Promise<SignedIn> {
  const signedIn = await getSession();
  if (!signedIn) redirect("/sign-in");
  if (!isSuspended(signedIn.user)) redirect("/workspaces");
  return signedIn;
}

/** The workspace as this person sees it (name, role), or null; one lookup per request for layout and page. */
export const getMemberWorkspace = cache((userId: string, workspaceId: string): Promise<WorkspaceSummary | null> =>
  getWorkspaceForMember(userId, workspaceId),
);

export type PageAccess<S extends Scope> = SignedIn & { ok: true; access: WorkspaceAccess<S> };
/** A workspace the person can see, but a scope their role lacks: the page says so instead of rendering. */
export type MissingScope = { ok: false; scope: Scope; role: WorkspaceAccess["role"] };

/**
 * The one access check for a workspace page, through the same `authorize()` as the REST API.
 * A workspace the person cannot see is Next's 404; a scope they lack comes back as
 * `{ ok: false }` so the page can render <ScopeRequired> (see scope-required.tsx).
 */
export async function requireWorkspaceAccess<S extends Scope>(workspaceId: string, scope: S): Promise<PageAccess<S> | MissingScope> {
  const signedIn = await requireUser();
  const principal = { kind: "user", userId: signedIn.user.id } as const;
  try {
    return { ...signedIn, ok: true, access: await authorize(principal, workspaceId, scope) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    if (error.status === 404) notFound();
    if (error.status === 403) {
      return { ok: false, scope, role: (await getMemberWorkspace(signedIn.user.id, workspaceId))?.role ?? null };
    }
    throw error;
  }
}
