import { and, eq } from "drizzle-orm";
import { memberships, type Role } from "@/db/control/schema";
import type { Actor } from "../audit/audit";
import { WORKSPACE_ID_PATTERN } from "../crypto/tokens";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { noteActor } from "../http/context";
import { roleScopes, type Scope } from "./scopes";
import type { OAuthPrincipal } from "../oauth/access-tokens";
import type { TokenIssuer, TokenPrincipal } from "./tokens";

/**
 * Who is asking. A portal user acts through their membership; a team token carries its own
 * scopes and is bound to one workspace; an OAuth access token is bound to one workspace and
 * carries what its person consented to, capped again here by that person's current role.
 */
export type Principal = { kind: "user"; userId: string } | TokenPrincipal | OAuthPrincipal;

/** What `authorize` grants: enough for a handler to act and to say who acted. */
export type WorkspaceAccess = {
  workspaceId: string;
  principal: Principal;
  /** The membership role for a user; null for a token. */
  role: Role | null;
  scopes: readonly Scope[];
  actor: Actor;
  /** `user:<id>`, `token:<id>` or `oauth:<grant id>`: stored as the author of what this principal writes. */
  label: string;
};

export const principalLabel = (principal: Principal) =>
  principal.kind === "user"
    ? `user:${principal.userId}`
    : principal.kind === "token"
      ? `token:${principal.tokenId}`
      : `oauth:${principal.grantId}`;

/** A person's role in a workspace, or null when they are not a member. */
export async function membershipRole(userId: string, workspaceId: string): Promise<Role | null> {
  const control = await getControlDb();
  const [row] = await control.db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

export class InsufficientScopeError extends HttpError {
  constructor(readonly scope: Scope) {
    super(403, "insufficient_scope", `This needs the "${scope}" scope, which you do not have in this workspace.`, {
      "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${scope}"`,
    });
  }
}

/**
 * The one access check. A workspace the principal cannot see — another workspace's id, a
 * made-up id, one they were removed from — is a 404, so its existence is not confirmed; a
 * workspace they can see but a scope they lack is a 403 that names the scope.
 */
export async function authorize(principal: Principal, workspaceId: string, scope: Scope): Promise<WorkspaceAccess> {
  const access = await accessTo(principal, workspaceId);
  if (!access) throw notFound("No such workspace.");
  noteActor(access.label, workspaceId);
  if (!access.scopes.includes(scope)) throw new InsufficientScopeError(scope);
  return access;
}

/** The access a principal has to a workspace, or null when it cannot see it. */
export async function accessTo(principal: Principal, workspaceId: string): Promise<WorkspaceAccess | null> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) return null;
  const label = principalLabel(principal);
  if (principal.kind === "token") {
    if (principal.workspaceId !== workspaceId) return null;
    return { workspaceId, principal, role: null, scopes: principal.scopes, actor: { type: "token", id: principal.tokenId }, label };
  }
  if (principal.kind === "oauth" && principal.workspaceId !== workspaceId) return null;
  const role = await membershipRole(principal.userId, workspaceId);
  if (!role) return null;
  if (principal.kind === "oauth") {
    // A person demoted or removed after consenting takes their client down with them.
    const scopes = principal.scopes.filter((scope) => roleScopes[role].includes(scope));
    return { workspaceId, principal, role: null, scopes, actor: { type: "oauth", id: principal.grantId }, label };
  }
  return { workspaceId, principal, role, scopes: roleScopes[role], actor: { type: "user", id: principal.userId }, label };
}

/**
 * Who is issuing a team token. Only people (and the operator's CLI) issue tokens: a token that
 * could mint tokens would let a leaked one outlive its own revocation and expiry.
 */
export function issuerFor(access: WorkspaceAccess): TokenIssuer {
  if (access.principal.kind !== "user" || !access.role) {
    throw new HttpError(403, "tokens_cannot_issue_tokens", "Team tokens cannot issue tokens; an admin issues them in the portal or the CLI.");
  }
  return { type: "user", userId: access.principal.userId, role: access.role };
}
