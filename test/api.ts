import { createDecipheriv, randomUUID } from "node:crypto";
import fs from "node:fs";
import { and, asc, desc, eq, gt, inArray, notInArray } from "drizzle-orm";
import { memberships, oauthGrants, teamTokens, users, type Role } from "@/db/control/schema";
import { controlAuditLog, workspaceAuditLog } from "@/lib/audit/audit";
import { sessionCookieName } from "@/lib/auth/cookies";
import { createSession } from "@/lib/auth/sessions";
import { createUser } from "@/lib/auth/users";
import { randomId } from "@/lib/crypto/ids";
import { sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { authorize, type WorkspaceAccess } from "@/lib/access/authorize";
import type { Scope } from "@/lib/access/scopes";
import { issueTeamToken } from "@/lib/access/tokens";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { ORIGIN } from "./harness";

// The JSON helper lives in the harness; re-exported for the files that still import it from here.
export { jsonOf } from "./harness";

/** The owner's access to their workspace for `scope`, through authorize() as any caller's, for fixtures that write through lib/. */
export const ownerAccess = <S extends Scope>(ws: { owner: { id: string }; workspaceId: string }, scope: S): Promise<WorkspaceAccess<S>> =>
  authorize({ kind: "user", userId: ws.owner.id }, ws.workspaceId, scope);

/** A workspace with an owner and a fresh team token per role (as the owner issued them). */
export async function workspaceWithTokens(email = `owner-${Math.random().toString(36).slice(2)}@example.com`) {
  const owner = await createUser({ email, password: "correct horse battery" });
  const workspace = await createWorkspace({ type: "user", userId: owner.id }, "Team");
  const tokens = await authorize({ kind: "user", userId: owner.id }, workspace.id, "tokens");
  const issue = async (role: "viewer" | "member" | "admin") => (await issueTeamToken(tokens, { name: role, role, expiresInDays: 90 })).token;
  return { owner, workspaceId: workspace.id, viewer: await issue("viewer"), member: await issue("member"), admin: await issue("admin") };
}

/** A `name=value` session cookie for `userId`, as the portal would set it after sign-in. */
export async function sessionCookieForUser(userId: string): Promise<string> {
  const { token } = await createSession(userId);
  return `${sessionCookieName()}=${token}`;
}

/** A new account with `role` in the workspace (or no membership with null), and its session cookie. */
export async function userInWorkspace(workspaceId: string, role: Role | null, email = `user-${randomUUID()}@example.com`) {
  // Inserted directly: these accounts never sign in with a password, so no Argon2 hash is spent on them.
  const user = { id: randomId("usr"), email, passwordHash: "!unusable", createdAt: Date.now(), totpSecret: null, totpPendingSecret: null, totpLastStep: null };
  const control = await getControlDb();
  await control.db.insert(users).values(user);
  if (role) await control.db.insert(memberships).values({ workspaceId, userId: user.id, role, createdAt: Date.now() });
  return { user, cookie: await sessionCookieForUser(user.id) };
}

/** Bytes as JSON.stringify hands them to a replacer (a Buffer has already become `{type, data}`), or null. */
function bytesOf(value: unknown): Buffer | null {
  if (value instanceof Uint8Array) return Buffer.from(value);
  const json = value as { type?: unknown; data?: unknown } | null;
  return typeof json === "object" && json !== null && json.type === "Buffer" && Array.isArray(json.data) ? Buffer.from(json.data as number[]) : null;
}

/** Audit rows that record a refusal or a call, not a change: a refused request writes these (and only these). */
const RECORDS_OF_REFUSALS = ["access.denied", "mcp.tool_call", "operator.auth_failed", "operator.refused"];
const notARefusal = `action NOT IN (${RECORDS_OF_REFUSALS.map((action) => `'${action}'`).join(", ")})`;

/**
 * What a refused request must leave untouched: the workspace's data and audit rows, and the
 * workspace's team tokens and memberships in control.db. `last_used_at` is left out: a
 * well-formed, live token that lacks a scope has still been used. So are the rows that record
 * refusals and tool calls (`refusalRows` reads those): the refusal itself is audited.
 */
export async function snapshotWorkspace(workspaceId: string): Promise<string> {
  const data = await withWorkspace(workspaceId, async (db) => {
    const out: Record<string, unknown> = {};
    for (const table of ["knowledge", "agent_sessions", "events", "artifacts", "links", "settings"]) {
      out[table] = await db.rows(`SELECT * FROM ${table} ORDER BY rowid`);
    }
    out.audit_log = await db.rows(`SELECT * FROM audit_log WHERE ${notARefusal} ORDER BY seq`);
    return out;
  });
  const control = await getControlDb();
  const tokens = await control.db.select().from(teamTokens).where(eq(teamTokens.workspaceId, workspaceId)).orderBy(asc(teamTokens.id));
  const members = await control.db.select().from(memberships).where(eq(memberships.workspaceId, workspaceId)).orderBy(asc(memberships.userId));
  const controlAudit = await control.db.select().from(controlAuditLog).where(notInArray(controlAuditLog.action, RECORDS_OF_REFUSALS)).orderBy(asc(controlAuditLog.seq));
  return JSON.stringify({ data, tokens: tokens.map(({ lastUsedAt: _lastUsedAt, ...row }) => row), members, controlAudit }, (_key, value: unknown) =>
    bytesOf(value)?.toString("hex") ?? value,
  );
}

/** A row of either audit chain, details parsed. */
export type AuditRecord = { seq: number; actorType: string; actorId: string | null; action: string; target: string | null; requestId: string | null; details: Record<string, unknown> };
const recordOf = (row: typeof controlAuditLog.$inferSelect): AuditRecord => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> });

/** The refusal and tool-call rows (see snapshotWorkspace) after seq `after` in the workspace's chain and in control.db's. */
export async function refusalRows(workspaceId: string, after: { workspace: number; control: number } = { workspace: 0, control: 0 }) {
  const workspace = await withWorkspace(workspaceId, (db) =>
    db.db.select().from(workspaceAuditLog).where(and(inArray(workspaceAuditLog.action, RECORDS_OF_REFUSALS), gt(workspaceAuditLog.seq, after.workspace))).orderBy(asc(workspaceAuditLog.seq)),
  );
  const control = await getControlDb();
  const controlRows = await control.db
    .select()
    .from(controlAuditLog)
    .where(and(inArray(controlAuditLog.action, RECORDS_OF_REFUSALS), gt(controlAuditLog.seq, after.control)))
    .orderBy(asc(controlAuditLog.seq));
  return { workspace: workspace.map(recordOf), control: controlRows.map(recordOf) };
}

/** The newest seq of each chain: pass to refusalRows to see only what came after. */
export async function auditHeads(workspaceId: string): Promise<{ workspace: number; control: number }> {
  const [workspace] = await withWorkspace(workspaceId, (db) => db.db.select({ seq: workspaceAuditLog.seq }).from(workspaceAuditLog).orderBy(desc(workspaceAuditLog.seq)).limit(1));
  const control = await getControlDb();
  const [controlRow] = await control.db.select({ seq: controlAuditLog.seq }).from(controlAuditLog).orderBy(desc(controlAuditLog.seq)).limit(1);
  return { workspace: workspace?.seq ?? 0, control: controlRow?.seq ?? 0 };
}

/** Moves a token's expiry into the past, as if its lifetime had run out. */
export async function expireTeamToken(tokenId: string): Promise<void> {
  const control = await getControlDb();
  await control.db.update(teamTokens).set({ expiresAt: Date.now() - 1000 }).where(eq(teamTokens.id, tokenId));
}

/** The id of a team token, from its secret (as the server finds it: by hash). */
export async function teamTokenId(token: string): Promise<string> {
  const control = await getControlDb();
  const [row] = await control.db.select({ id: teamTokens.id }).from(teamTokens).where(eq(teamTokens.tokenHash, sha256Hex(token)));
  if (!row) throw new Error("no such token");
  return row.id;
}

/**
 * The plaintext of every page of a SQLCipher 4 file (and of every frame in its `-wal`, if one
 * is left), decrypted here with the raw key, so a test can look at what is on disk — free
 * pages and slack space included — not only at the rows SQL still shows.
 * Layout (SQLCipher 4 defaults): 4096-byte pages; page 1 starts with the 16-byte salt; each
 * page ends with 80 reserved bytes, the first 16 of which are the AES-256-CBC IV.
 */
export function decryptedSqlcipherPages(file: string, key: Buffer): Buffer[] {
  const PAGE = 4096;
  const RESERVE = 80;
  const decryptPage = (page: Buffer, first: boolean) => {
    const offset = first ? 16 : 0;
    const iv = page.subarray(PAGE - RESERVE, PAGE - RESERVE + 16);
    const decipher = createDecipheriv("aes-256-cbc", key, iv).setAutoPadding(false);
    return Buffer.concat([decipher.update(page.subarray(offset, PAGE - RESERVE)), decipher.final()]);
  };
  const pages: Buffer[] = [];
  const main = fs.readFileSync(file);
  for (let at = 0; at + PAGE <= main.length; at += PAGE) pages.push(decryptPage(main.subarray(at, at + PAGE), at === 0));
  const wal = `${file}-wal`;
  if (fs.existsSync(wal)) {
    const bytes = fs.readFileSync(wal);
    for (let at = 32; at + 24 + PAGE <= bytes.length; at += 24 + PAGE) {
      const pageNumber = bytes.readUInt32BE(at);
      pages.push(decryptPage(bytes.subarray(at + 24, at + 24 + PAGE), pageNumber === 1));
    }
  }
  return pages;
}

/**
 * A live OAuth grant of the workspace's owner, as the token endpoint leaves one (for tests that
 * list or revoke connected clients; test/connected-clients.test.ts runs the real flow).
 */
export async function liveGrant(ws: { owner: { id: string }; workspaceId: string }, clientName = "Test agent"): Promise<string> {
  const id = randomId("grt");
  const control = await getControlDb();
  await control.db.insert(oauthGrants).values({
    id,
    clientId: "cli_fixture",
    clientName,
    userId: ws.owner.id,
    workspaceId: ws.workspaceId,
    scopes: JSON.stringify(["search"]),
    resource: `${ORIGIN}/mcp`,
    redirectUri: "http://127.0.0.1:43117/callback",
    createdAt: Date.now(),
  });
  return id;
}
