import { and, eq, isNull, sql } from "drizzle-orm";
import { memberships, workspaces, type Role } from "@/db/control/schema";
import type { Actor } from "../audit/audit";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { preparedPerHandle } from "../db/prepared";
import { getControlDb, type ControlDb } from "../db/store";
import { noteActor } from "../log/request-context";
import { HttpError, notFound } from "../http/errors";
import { recordNotVisible, recordScopeDenial, type Attempt } from "./denials";
import { actorOf, principalLabel, resolvePrincipal, type Principal, type Surface } from "./principal";
import { capByRole, roleScopes, tokenScopes, type Scope } from "./scopes";
import type { TokenIssuer } from "./tokens";

/** What a principal may do in one workspace, before any one scope is asked for. */
export type WorkspaceGrant = {
  readonly workspaceId: string;
  readonly principal: Principal;
  /** The membership role for a person; null for a token, an OAuth client or the operator. */
  readonly role: Role | null;
  readonly scopes: readonly Scope[];
  readonly actor: Actor;
  /** Stored as the author of what this principal writes (see principalLabel). */
  readonly label: string;
};

declare const checkedScope: unique symbol;

/**
 * Proof that `authorize()` let this principal use scope `S` in this workspace. Every function
 * that reads or writes workspace data takes one for the scope it needs, and only authorize()
 * makes them, so the type checker shows no data is touched without the check — and not with
 * a check for another scope.
 */
export type WorkspaceAccess<S extends Scope = Scope> = WorkspaceGrant & { readonly [checkedScope]: S };

/**
 * A person's role in a workspace, or null when they are not a member — or when the workspace
 * is deleted (lib/lifecycle/workspace-deletion.ts): a deleted workspace has no members to
 * anyone asking for access, only to its owner's restore, which looks it up itself.
 */
export async function membershipRole(userId: string, workspaceId: string): Promise<Role | null> {
  return (await memberOf(userId, workspaceId))?.role ?? null;
}

const preparedMemberOf = preparedPerHandle((control: ControlDb) =>
  control.db
    .select({ role: memberships.role, offlineSince: workspaces.offlineSince })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.workspaceId, sql.placeholder("workspaceId")), eq(memberships.userId, sql.placeholder("userId")), isNull(workspaces.deletedAt)))
    .limit(1)
    .prepare(),
);

/** The membership and whether a restore has the workspace offline, in one read. */
async function memberOf(userId: string, workspaceId: string): Promise<{ role: Role; offlineSince: number | null } | undefined> {
  const [row] = await preparedMemberOf(await getControlDb()).all({ userId, workspaceId });
  return row;
}

const preparedLiveWorkspace = preparedPerHandle((control: ControlDb) =>
  control.db
    .select({ offlineSince: workspaces.offlineSince })
    .from(workspaces)
    .where(and(eq(workspaces.id, sql.placeholder("workspaceId")), isNull(workspaces.deletedAt)))
    .limit(1)
    .prepare(),
);

/** The workspace if it exists and is not deleted, with whether a restore has it offline. */
async function liveWorkspace(workspaceId: string): Promise<{ offlineSince: number | null } | undefined> {
  const [row] = await preparedLiveWorkspace(await getControlDb()).all({ workspaceId });
  return row;
}

/**
 * `enclave backup restore --workspace` is swapping the workspace's file (lib/backup/swap.ts):
 * nothing may read the file being replaced or write to it. Only a principal that could see the
 * workspace is told it is offline; anyone else still gets the 404.
 */
export class WorkspaceOfflineError extends HttpError {
  constructor() {
    super(503, "workspace_offline", "This workspace is being restored by the operator; try again shortly.", { "Retry-After": String(OFFLINE_RETRY_AFTER_SECONDS) });
  }
}

/** A swap takes its drain plus two renames: a few seconds. */
const OFFLINE_RETRY_AFTER_SECONDS = 10;

function unlessOffline<T>(found: { offlineSince: number | null } | undefined, value: T): T | null {
  if (!found) return null;
  if (found.offlineSince !== null) throw new WorkspaceOfflineError();
  return value;
}

export class InsufficientScopeError extends HttpError {
  /** Settles once the refusal is in the workspace's audit trail (denials.ts); never rejects. */
  recorded: Promise<void> = Promise.resolve();
  constructor(readonly scope: Scope) {
    super(403, "insufficient_scope", `This needs the "${scope}" scope, which you do not have in this workspace.`, {
      "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${scope}"`,
    });
  }
}

/**
 * What `principal` may do in `workspaceId`, or null when it cannot see the workspace at all:
 * another workspace's id, a made-up one, one it was removed from, one that is deleted (for
 * every principal, on every surface: this is the one place that hides it). The role cap applies to
 * everything a person delegated (capByRole): their OAuth clients here, their team tokens when
 * the token was resolved. A workspace it can see that a restore has taken offline throws
 * WorkspaceOfflineError (503) instead, and stillAuthorized() then ends live streams.
 */
export async function workspaceGrant(principal: Principal, workspaceId: string): Promise<WorkspaceGrant | null> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) return null;
  const grant = (role: Role | null, scopes: readonly Scope[]): WorkspaceGrant => ({
    workspaceId,
    principal,
    role,
    scopes,
    actor: actorOf(principal),
    label: principalLabel(principal),
  });
  switch (principal.kind) {
    case "token":
      // Tokens are revoked when their workspace is deleted; the check holds even for one that was not.
      return principal.workspaceId === workspaceId ? unlessOffline(await liveWorkspace(workspaceId), grant(null, principal.scopes)) : null;
    case "operator":
      return unlessOffline(await liveWorkspace(workspaceId), grant(null, tokenScopes));
    case "oauth": {
      if (principal.workspaceId !== workspaceId) return null;
      const member = await memberOf(principal.userId, workspaceId);
      return member ? unlessOffline(member, grant(null, capByRole(principal.scopes, member.role))) : null;
    }
    case "user": {
      const member = await memberOf(principal.userId, workspaceId);
      return member ? unlessOffline(member, grant(member.role, roleScopes[member.role])) : null;
    }
  }
}

/**
 * The one access check. A workspace the principal cannot see is a 404, so its existence is
 * not confirmed; a workspace it can see but a scope it lacks is a 403 that names the scope.
 * Both refusals are audited (denials.ts) before they are thrown; `attempted` names what was
 * asked for in that row (a REST operationId, an MCP tool).
 */
export async function authorize<S extends Scope>(principal: Principal, workspaceId: string, scope: S, attempted?: Attempt): Promise<WorkspaceAccess<S>> {
  const grant = await workspaceGrant(principal, workspaceId);
  if (!grant) {
    await recordNotVisible(principal, workspaceId, attempted);
    throw notFound("No such workspace.");
  }
  noteActor(grant.label, workspaceId);
  try {
    return authorizeWithin(grant, scope, attempted);
  } catch (error) {
    if (error instanceof InsufficientScopeError) await error.recorded;
    throw error;
  }
}

/** Whether `grant` covers `scope`: what a menu or a tool list shows, by the same rule authorizeWithin enforces. */
export const grantCovers = (grant: WorkspaceGrant, scope: Scope): boolean => grant.scopes.includes(scope);

/**
 * The same check against a grant already looked up (an MCP request checks several tools
 * against one). Synchronous, so a refusal's audit row is being written as it is thrown: a
 * caller that can wait awaits `error.recorded` before answering (authorize() does).
 */
export function authorizeWithin<S extends Scope>(grant: WorkspaceGrant, scope: S, attempted?: Attempt): WorkspaceAccess<S> {
  if (!grantCovers(grant, scope)) {
    const refusal = new InsufficientScopeError(scope);
    refusal.recorded = recordScopeDenial(grant, scope, attempted);
    throw refusal;
  }
  return grant as WorkspaceAccess<S>;
}

/**
 * Who is issuing a team token. Only people and the operator issue tokens: a token that could
 * mint tokens would let a leaked one outlive its own revocation and expiry.
 */
export function issuerFor(access: WorkspaceAccess<"tokens">): TokenIssuer {
  if (access.principal.kind === "operator") return { type: "operator" };
  if (access.principal.kind !== "user" || !access.role) {
    throw new HttpError(403, "tokens_cannot_issue_tokens", "Team tokens cannot issue tokens; an admin issues them in the portal or the CLI.");
  }
  return { type: "user", userId: access.principal.userId, role: access.role };
}

/**
 * Asks again, for long-lived responses (an event stream): would this request, made now on
 * `surface`, still be let through for `scope` in this workspace? The same resolver and the
 * same check as its first answer; any refusal is a no.
 */
export async function stillAuthorized(request: Request, surface: Surface, workspaceId: string, scope: Scope): Promise<boolean> {
  try {
    const grant = await workspaceGrant(await resolvePrincipal(request, surface), workspaceId);
    return grant !== null && grantCovers(grant, scope);
  } catch {
    return false;
  }
}
