import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import { teamTokens, type Role } from "@/db/control/schema";
import { auditControlTx } from "../audit/audit";
import { assertRoomFor } from "../billing/limits";
import { mintSecret } from "../crypto/secrets";
import { randomId } from "../crypto/ids";
import { bumpAccessEpoch } from "../db/access-epoch";
import { getControlDb } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { nameText } from "../http/text";
import { issuerFor, type WorkspaceAccess } from "./authorize";
import { normalizeScopes, roleScopes, scopeSchema, tokenCap, type Scope } from "./scopes";

/**
 * Team tokens, for scripts and agents: issued by a workspace admin (or the operator's CLI),
 * listed, revoked. Their format and storage are lib/crypto/secrets.ts's; resolving one on a
 * request is lib/access/bearer.ts's.
 *
 * A token acts with the scopes it was issued with, capped again at every request by the
 * issuer's *current* role: a token from someone later demoted loses what they lost, and one
 * from someone removed from the workspace stops working. Tokens issued from the CLI (the
 * operator, who holds the master key anyway) are capped at admin.
 */
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

export async function issueTeamToken(access: WorkspaceAccess<"tokens">, input: IssueTokenInput): Promise<{ token: string; summary: TeamTokenSummary }> {
  const issuer = issuerFor(access);
  const workspaceId = access.workspaceId;
  const scopes = normalizeScopes(input.role ? roleScopes[input.role] : (input.scopes ?? []));
  const cap = tokenCap(issuer.type === "user" ? issuer.role : "operator");
  const beyond = scopes.filter((scope) => !cap.includes(scope));
  if (beyond.length > 0) {
    throw new HttpError(403, "scope_exceeds_role", `You cannot issue a token with ${beyond.join(", ")}: it is more than your role allows.`);
  }
  const { secret: token, hash } = mintSecret("teamToken");
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
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    await assertRoomFor("teamTokens", workspaceId, { reader: tx, now });
    await tx.insert(teamTokens).values({
      ...summary,
      workspaceId,
      scopes: JSON.stringify(scopes),
      tokenHash: hash,
      issuerType: issuer.type,
      issuedBy: issuer.type === "user" ? issuer.userId : null,
    });
    await auditControlTx(tx, {
      actor: access.actor,
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

export async function listTeamTokens(access: WorkspaceAccess<"tokens">): Promise<TeamTokenSummary[]> {
  const control = await getControlDb();
  const rows = await control.db.select(summaryColumns).from(teamTokens).where(eq(teamTokens.workspaceId, access.workspaceId)).orderBy(desc(teamTokens.createdAt));
  return rows.map((row) => ({ ...row, scopes: JSON.parse(row.scopes) as Scope[] }));
}

/** Revokes at once: the next request with the token is refused. A token of another workspace is a 404. */
export async function revokeTeamToken(access: WorkspaceAccess<"tokens">, tokenId: string): Promise<void> {
  const { workspaceId, actor } = access;
  const control = await getControlDb();
  await control.transaction(async (tx) => {
    const [row] = await tx
      .select({ revokedAt: teamTokens.revokedAt })
      .from(teamTokens)
      .where(and(eq(teamTokens.id, tokenId), eq(teamTokens.workspaceId, workspaceId)));
    if (!row) throw notFound("No such token in this workspace.");
    if (row.revokedAt !== null) return;
    await tx.update(teamTokens).set({ revokedAt: Date.now() }).where(eq(teamTokens.id, tokenId));
    await bumpAccessEpoch(tx);
    await auditControlTx(tx, { actor, action: "token.revoke", target: tokenId, details: { workspaceId } });
  });
}

/** The workspace a token belongs to (the CLI revokes by token id alone), or null. */
export async function tokenWorkspaceId(tokenId: string): Promise<string | null> {
  const control = await getControlDb();
  const [row] = await control.db.select({ workspaceId: teamTokens.workspaceId }).from(teamTokens).where(eq(teamTokens.id, tokenId));
  return row?.workspaceId ?? null;
}
