import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { memberships, teamTokens, type Role } from "@/db/control/schema";
import { auditControlTx, type Actor } from "../audit/audit";
import { isWellFormedSecret, mintPrefixedSecret, randomId, sha256Hex } from "../crypto/tokens";
import { getControlDb, type ControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { logger } from "../http/log";
import { nameText } from "../http/text";
import { normalizeScopes, roleScopes, scopeSchema, tokenScopes, type Scope } from "./scopes";

/**
 * Team tokens, for scripts and agents.
 *
 * Format: `enc_` + 256 random bits + a checksum (see mintPrefixedSecret).
 *
 * Storage: only SHA-256(token) is kept, in a unique index, so a check is one indexed equality
 * lookup — never a scan, and never a comparison that leaks timing about the stored value.
 * The token is shown exactly once, when issued.
 *
 * A token acts with the scopes it was issued with, capped again at every request by the
 * issuer's *current* role: a token from someone later demoted loses what they lost, and one
 * from someone removed from the workspace stops working. Tokens issued from the CLI (the
 * operator, who holds the master key anyway) are capped at admin.
 */
export const TEAM_TOKEN_PREFIX = "enc_";
export const TEAM_TOKEN_PATTERN = /^enc_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/;

export const mintTeamTokenSecret = () => mintPrefixedSecret(TEAM_TOKEN_PREFIX);
export const isWellFormedTeamToken = (token: string) => isWellFormedSecret(token, TEAM_TOKEN_PREFIX);

export const MAX_TOKEN_DAYS = 365;
export const DEFAULT_TOKEN_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export const issueTokenSchema = z
  .object({
    name: nameText(80, "Give the token a name.").default("token"),
    role: z.enum(["viewer", "member", "admin"]).optional(),
    scopes: z.array(scopeSchema).min(1).max(32).optional(),
    expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS).default(DEFAULT_TOKEN_DAYS),
  })
  .refine((value) => (value.role === undefined) !== (value.scopes === undefined), {
    message: "Give either a role or a list of scopes, not both.",
    path: ["role"],
  });
export type IssueTokenInput = z.infer<typeof issueTokenSchema>;

export type TokenIssuer = { type: "user"; userId: string; role: Role } | { type: "operator" };

export type TeamTokenSummary = {
  id: string;
  name: string;
  role: "viewer" | "member" | "admin" | null;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number;
  revokedAt: number | null;
};

export const tokenStatus = (token: TeamTokenSummary, now = Date.now()): "active" | "revoked" | "expired" =>
  token.revokedAt !== null ? "revoked" : token.expiresAt <= now ? "expired" : "active";

/** The most a token may carry: the operator's are capped at admin, a user's at their current role (none once they leave). */
const issuerCap = (issuerType: "user" | "operator", role: Role | null): readonly Scope[] =>
  issuerType === "operator" ? tokenScopes : role ? roleScopes[role].filter((s) => tokenScopes.includes(s)) : [];

export async function issueTeamToken(
  workspaceId: string,
  input: IssueTokenInput,
  issuer: TokenIssuer,
): Promise<{ token: string; summary: TeamTokenSummary }> {
  const scopes = normalizeScopes(input.role ? roleScopes[input.role] : (input.scopes ?? []));
  const cap = issuerCap(issuer.type, issuer.type === "user" ? issuer.role : null);
  const beyond = scopes.filter((scope) => !cap.includes(scope));
  if (beyond.length > 0) {
    throw new HttpError(403, "scope_exceeds_role", `You cannot issue a token with ${beyond.join(", ")}: it is more than your role allows.`);
  }
  const token = mintTeamTokenSecret();
  const now = Date.now();
  const summary: TeamTokenSummary = {
    id: randomId("tok"),
    name: input.name,
    role: input.role ?? null,
    scopes,
    createdAt: now,
    lastUsedAt: null,
    expiresAt: now + input.expiresInDays * DAY_MS,
    revokedAt: null,
  };
  const actor: Actor = issuer.type === "user" ? { type: "user", id: issuer.userId } : { type: "system", id: "cli" };
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    await tx.insert(teamTokens).values({
      ...summary,
      workspaceId,
      scopes: JSON.stringify(scopes),
      tokenHash: sha256Hex(token),
      issuerType: issuer.type,
      issuedBy: issuer.type === "user" ? issuer.userId : null,
    });
    await auditControlTx(tx, {
      actor,
      action: "token.issue",
      target: summary.id,
      details: { workspaceId, name: summary.name, role: summary.role, scopes, expiresAt: summary.expiresAt },
    });
  });
  return { token, summary };
}

const summaryColumns = {
  id: teamTokens.id,
  name: teamTokens.name,
  role: teamTokens.role,
  scopes: teamTokens.scopes,
  createdAt: teamTokens.createdAt,
  lastUsedAt: teamTokens.lastUsedAt,
  expiresAt: teamTokens.expiresAt,
  revokedAt: teamTokens.revokedAt,
};

export async function listTeamTokens(workspaceId: string): Promise<TeamTokenSummary[]> {
  const control = await getControlDb();
  const rows = await control.db.select(summaryColumns).from(teamTokens).where(eq(teamTokens.workspaceId, workspaceId)).orderBy(desc(teamTokens.createdAt));
  return rows.map((row) => ({ ...row, scopes: JSON.parse(row.scopes) as Scope[] }));
}

/** Revokes at once: the next request with the token is refused. A token of another workspace is a 404. */
export async function revokeTeamToken(workspaceId: string, tokenId: string, actor: Actor): Promise<void> {
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ revokedAt: teamTokens.revokedAt })
      .from(teamTokens)
      .where(and(eq(teamTokens.id, tokenId), eq(teamTokens.workspaceId, workspaceId)));
    if (!row) throw notFound("No such token in this workspace.");
    if (row.revokedAt !== null) return;
    await tx.update(teamTokens).set({ revokedAt: Date.now() }).where(eq(teamTokens.id, tokenId));
    await auditControlTx(tx, { actor, action: "token.revoke", target: tokenId, details: { workspaceId } });
  });
}

export type TokenPrincipal = { kind: "token"; tokenId: string; workspaceId: string; scopes: Scope[] };

// last_used_at is for people reading a token or client list, not for security: writing it at
// most once a minute keeps a busy token from turning every read into a control.db write.
const LAST_USED_GRANULARITY_MS = 60_000;

/** Writes a bearer credential's last use when the recorded one is over a minute old, without making the caller wait. */
export function recordUse(lastUsedAt: number | null, now: number, write: () => Promise<unknown>): void {
  if (lastUsedAt !== null && now - lastUsedAt <= LAST_USED_GRANULARITY_MS) return;
  write().catch((error: unknown) => logger.warn({ err: error }, "could not record a token's last use"));
}

/**
 * The one query behind every bearer check: an equality match on the unique token_hash index,
 * joined to the issuer's current membership. (Exported so the API benchmark can show its plan.)
 */
export function tokenLookup(control: ControlDb, tokenHash: string) {
  return control.db
    .select({
      id: teamTokens.id,
      workspaceId: teamTokens.workspaceId,
      scopes: teamTokens.scopes,
      issuerType: teamTokens.issuerType,
      issuerRole: memberships.role,
      expiresAt: teamTokens.expiresAt,
      lastUsedAt: teamTokens.lastUsedAt,
    })
    .from(teamTokens)
    .leftJoin(memberships, and(eq(memberships.workspaceId, teamTokens.workspaceId), eq(memberships.userId, teamTokens.issuedBy)))
    .where(and(eq(teamTokens.tokenHash, tokenHash), isNull(teamTokens.revokedAt)))
    .limit(1);
}

/** The principal a bearer token stands for, or null when it is unknown, revoked, expired or orphaned. */
export async function resolveTeamToken(token: string): Promise<TokenPrincipal | null> {
  if (!isWellFormedTeamToken(token)) return null;
  const control = await getControlDb();
  const [row] = await tokenLookup(control, sha256Hex(token));
  const now = Date.now();
  if (!row || row.expiresAt <= now) return null;
  const cap = issuerCap(row.issuerType, row.issuerRole);
  const scopes = (JSON.parse(row.scopes) as Scope[]).filter((scope) => cap.includes(scope));
  if (scopes.length === 0) return null;
  recordUse(row.lastUsedAt, now, () => control.db.update(teamTokens).set({ lastUsedAt: now }).where(eq(teamTokens.id, row.id)));
  return { kind: "token", tokenId: row.id, workspaceId: row.workspaceId, scopes };
}

/** The workspace a token belongs to (the CLI revokes by token id alone), or null. */
export async function tokenWorkspaceId(tokenId: string): Promise<string | null> {
  const control = await getControlDb();
  const [row] = await control.db.select({ workspaceId: teamTokens.workspaceId }).from(teamTokens).where(eq(teamTokens.id, tokenId));
  return row?.workspaceId ?? null;
}
