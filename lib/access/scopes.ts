import { z } from "zod";
import type { Role } from "@/db/control/schema";

/**
 * Who may do what: the one roles → scopes table. Every check (REST handlers, portal pages,
 * MCP tools) asks `authorize()`, which reads this table and nothing else.
 *
 *   viewer  search, graph, events:read
 *   member  viewer + knowledge, sessionmutations, artifacts, index, events:publish
 *   admin   member + audit, members, tokens, settings, clients
 *   owner   admin + billing, ownership, workspace:delete
 */
export const scopeDescriptions = {
  search: "Read and search knowledge, agent sessions and artifacts",
  graph: "Read the knowledge graph (neighbours)",
  "events:read": "Read and follow the event stream",
  knowledge: "Create, edit and delete knowledge",
  sessionmutations: "Create and update agent sessions",
  artifacts: "Upload and delete artifacts",
  index: "Link knowledge entries in the graph",
  "events:publish": "Publish events",
  audit: "Read the workspace audit trail",
  members: "Manage members and their roles",
  tokens: "Issue and revoke team tokens",
  settings: "Change workspace settings (secret redaction)",
  clients: "See and revoke connected AI clients",
  billing: "Manage billing",
  ownership: "Transfer ownership",
  "workspace:delete": "Delete the workspace",
} as const;

export type Scope = keyof typeof scopeDescriptions;
export const allScopes = Object.keys(scopeDescriptions) as Scope[];

const viewer: Scope[] = ["search", "graph", "events:read"];
const member: Scope[] = [...viewer, "knowledge", "sessionmutations", "artifacts", "index", "events:publish"];
const admin: Scope[] = [...member, "audit", "members", "tokens", "settings", "clients"];
const owner: Scope[] = [...admin, "billing", "ownership", "workspace:delete"];

export const roleScopes: Record<Role, readonly Scope[]> = { viewer, member, admin, owner };
export const roles = ["viewer", "member", "admin", "owner"] as const satisfies readonly Role[];
export const roleSchema = z.enum(roles);

/** Scopes a team token may carry: nothing above admin (tokens never bill, transfer or delete). */
export const tokenScopes = admin;

/**
 * The role cap, the one rule for every delegated power: of `scopes`, those `role` carries —
 * none without a role (not, or no longer, a member). A team token, an OAuth grant, a consent
 * and a refresh all pass through it, so a person demoted or removed takes what they delegated
 * down with them.
 */
export function capByRole<S extends Scope>(scopes: readonly S[], role: Role | null): S[] {
  if (!role) return [];
  const allowed = roleScopes[role];
  return scopes.filter((scope) => allowed.includes(scope));
}

/** The most a team token may carry from its issuer: the operator's admin-level set, or the issuer's current role's share of it. */
export function tokenCap(issuer: Role | "operator" | null): readonly Scope[] {
  return issuer === "operator" ? tokenScopes : capByRole(tokenScopes, issuer);
}
export const scopeSchema = z.enum(allScopes as [Scope, ...Scope[]]);

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export const roleAtLeast = (role: Role, floor: Role) => rank[role] >= rank[floor];

export function hasAllScopes(granted: readonly Scope[], wanted: readonly Scope[]): boolean {
  return wanted.every((scope) => granted.includes(scope));
}

/** Orders any list of scopes as the table does, without duplicates. */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  return allScopes.filter((scope) => scopes.includes(scope));
}
