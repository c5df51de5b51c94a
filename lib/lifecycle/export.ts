import type { Readable } from "node:stream";
import { and, asc, eq, gt, gte, inArray, isNull, lte, or } from "drizzle-orm";
import { accessRequests, backupCodes, invitations, knownDevices, memberships, oauthGrants, sessions, teamTokens, workspaces } from "@/db/control/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { auditControl, auditWorkspace, controlAuditLog, type Actor } from "../audit/audit";
import { readAuditHead } from "../audit/chain";
import { isMfaEnabled } from "../auth/mfa";
import { accountBilling } from "../billing/payments";
import { requireRecentReauth } from "../auth/reauth";
import type { SignedIn } from "../auth/sessions";
import { getControlDb } from "../db/store";
import { notFound } from "../http/errors";
import { limitAccountExport } from "../http/rate-limits";
import { logger } from "../log/logger";
import { startArchive, toWebStream, type ArchiveFigures, type ArchiveOutcome } from "./archive";
import { jsonLine } from "./export-format";
import { dumpWorkspace, type DumpFigures, type WorkspaceToDump } from "./workspace-dump";

/**
 * "Download my data" and `enclave workspace export`: the archives, built here; the route and
 * the CLI only start them and hand the bytes on.
 *
 * What leaves in an account export is the person's own: their profile, sign-in sessions,
 * memberships, the tokens they issued, the AI clients they connected, the control audit rows
 * that are about them, and every workspace they own (a deleted one too, until it is purged).
 * What never leaves: the password hash, session and token hashes, TOTP secrets, backup codes
 * and client secrets — each row is copied field by field, so a column added later stays in.
 * In the rows about them that someone else wrote (an admin changing their role, a failed
 * sign-in), that actor's IP address, user agent and request id are left out: they are the
 * other person's data.
 */

const README_ACCOUNT = `Enclave: your data
==================

This archive holds what this Enclave server keeps about you, as of the time in manifest.json.

  account.json      your profile (with when your email was verified, and your Clerk user id
                    if you sign in through Clerk), sign-in sessions (IP address, browser,
                    times), the devices seen signing in (first and last time), whether
                    two-factor authentication is on, your workspace memberships and roles,
                    the invitations sent to your address and the access requests you made
  tokens.json       the team tokens you issued (names, scopes, dates; never the secrets)
  ai-clients.json   the AI clients you connected (OAuth grants: client, workspace, scopes, dates)
  billing.json      when this server bills through Razorpay: the subscriptions you took out and
                    every payment and refund made under them (kept after your account is closed)
  audit.jsonl       the server's audit rows about you: what you did, and what was done to your account
  workspaces/<id>/  each workspace you own (see below)
  manifest.json     the size and SHA-256 of every other file

No password, password hash, token or session secret, or two-factor secret or backup code is
ever included.
`;

const README_WORKSPACE_FOLDER = `
Each workspaces/<id>/ folder:

  workspace.json        id, name, dates, and the audit chain's head at export time
  settings.json         the workspace's redaction settings
  knowledge.jsonl       knowledge entries (ids, versions and times as stored)
  agent-sessions.jsonl  agent sessions and their JSON state
  events.jsonl          events, by sequence number
  links.jsonl           links between knowledge entries
  artifacts.jsonl       one line per artifact: name, content type, size, SHA-256, and its file
  artifacts/            the artifacts' bytes, one file each, named <ordinal>-<name>
  audit.jsonl           the workspace's audit trail, with each row's hash chain fields

JSON Lines files hold one JSON object per line (RFC 8785 canonical JSON), ordered by key, so
the same data always gives the same bytes. Times are milliseconds since 1970-01-01 UTC.
An operator can load a workspace folder into a new workspace with
\`enclave workspace import --file <this.zip> --owner <email>\` (on this server or another).
`;

const README_WORKSPACE = `Enclave: workspace export
=========================

This archive holds one workspace, as of the time in manifest.json. manifest.json lists the
size and SHA-256 of every other file.
`;

// ---- the account export ----

type ControlDbHandle = Awaited<ReturnType<typeof getControlDb>>;

async function accountFiles(control: ControlDbHandle, signedIn: SignedIn) {
  const userId = signedIn.user.id;
  const db = control.db;
  const ownSessions = await db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(asc(sessions.createdAt));
  const memberOf = await db
    .select({ workspaceId: memberships.workspaceId, workspaceName: workspaces.name, role: memberships.role, since: memberships.createdAt, deletedAt: workspaces.deletedAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.workspaceId));
  const unusedBackupCodes = await db.$count(backupCodes, and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)));
  const { user } = signedIn;
  const devices = await db
    .select({ firstSeenAt: knownDevices.firstSeenAt, lastSeenAt: knownDevices.lastSeenAt })
    .from(knownDevices)
    .where(eq(knownDevices.userId, userId))
    .orderBy(asc(knownDevices.firstSeenAt));
  // Invitation rows, never their token hashes; who invited is the inviter's own record and stays out, like other actors' data.
  const invitedAs = await db
    .select({
      id: invitations.id,
      workspaceId: invitations.workspaceId,
      role: invitations.role,
      createdAt: invitations.createdAt,
      expiresAt: invitations.expiresAt,
      acceptedAt: invitations.acceptedAt,
      revokedAt: invitations.revokedAt,
    })
    .from(invitations)
    .where(eq(invitations.email, user.email))
    .orderBy(asc(invitations.createdAt));
  const requested = await db
    .select({ id: accessRequests.id, message: accessRequests.message, createdAt: accessRequests.createdAt, status: accessRequests.status, answeredAt: accessRequests.answeredAt })
    .from(accessRequests)
    .where(eq(accessRequests.email, user.email))
    .orderBy(asc(accessRequests.createdAt));
  const account = {
    user: {
      id: user.id,
      email: user.email,
      emailVerifiedAt: user.emailVerifiedAt,
      clerkUserId: user.clerkUserId,
      createdAt: user.createdAt,
      closureRequestedAt: user.closureRequestedAt,
      purgeAt: user.purgeAt,
    },
    twoFactor: { enabled: isMfaEnabled(user), unusedBackupCodes: isMfaEnabled(user) ? unusedBackupCodes : 0 },
    sessions: ownSessions.map((session) => ({
      current: session.id === signedIn.sessionId,
      createdAt: session.createdAt,
      lastSeenAt: session.lastSeenAt,
      expiresAt: session.expiresAt,
      reauthAt: session.reauthAt,
      ip: session.ip,
      userAgent: session.userAgent,
    })),
    knownDevices: devices,
    memberships: memberOf,
    invitations: invitedAs,
    accessRequests: requested,
  };

  const tokens = await db
    .select({
      id: teamTokens.id,
      workspaceId: teamTokens.workspaceId,
      name: teamTokens.name,
      role: teamTokens.role,
      scopes: teamTokens.scopes,
      createdAt: teamTokens.createdAt,
      expiresAt: teamTokens.expiresAt,
      lastUsedAt: teamTokens.lastUsedAt,
      revokedAt: teamTokens.revokedAt,
    })
    .from(teamTokens)
    .where(and(eq(teamTokens.issuerType, "user"), eq(teamTokens.issuedBy, userId)))
    .orderBy(asc(teamTokens.id));

  const grants = await db
    .select({
      grantId: oauthGrants.id,
      clientId: oauthGrants.clientId,
      clientName: oauthGrants.clientName,
      workspaceId: oauthGrants.workspaceId,
      scopes: oauthGrants.scopes,
      resource: oauthGrants.resource,
      redirectUri: oauthGrants.redirectUri,
      createdAt: oauthGrants.createdAt,
      lastUsedAt: oauthGrants.lastUsedAt,
      revokedAt: oauthGrants.revokedAt,
      revokedReason: oauthGrants.revokedReason,
    })
    .from(oauthGrants)
    .where(eq(oauthGrants.userId, userId))
    .orderBy(asc(oauthGrants.id));

  const parseScopes = <T extends { scopes: string }>(row: T) => ({ ...row, scopes: JSON.parse(row.scopes) as unknown });
  return {
    account,
    billing: await accountBilling(userId),
    tokens: tokens.map(parseScopes),
    aiClients: grants.map(parseScopes),
    /** What the person's audit rows may be about besides their account: their tokens and grants. */
    theirTargets: [userId, ...tokens.map((token) => token.id), ...grants.map((grant) => grant.grantId)],
  };
}

/**
 * The control audit rows about the person, oldest first, up to the head when the export began,
 * from the account's creation on (an email signed up again onto a purged account's tombstone
 * must not receive the rows of whoever held it before).
 */
async function* personAuditLines(control: ControlDbHandle, user: { id: string; createdAt: number }, targets: string[]): AsyncGenerator<Buffer> {
  const db = control.db;
  const userId = user.id;
  const head = (await readAuditHead(db, controlAuditLog))?.seq ?? 0;
  const about = and(
    or(and(eq(controlAuditLog.actorType, "user"), eq(controlAuditLog.actorId, userId)), inArray(controlAuditLog.target, targets)),
    gte(controlAuditLog.at, user.createdAt),
  );
  let after = 0;
  for (;;) {
    const rows = await db.select().from(controlAuditLog).where(and(gt(controlAuditLog.seq, after), lte(controlAuditLog.seq, head), about)).orderBy(asc(controlAuditLog.seq)).limit(200);
    if (rows.length === 0) return;
    const lines = rows.map((row) => {
      const theirs = row.actorType === "user" && row.actorId === userId;
      return jsonLine({
        seq: row.seq,
        at: row.at,
        actorType: row.actorType,
        actorId: row.actorId,
        action: row.action,
        target: row.target,
        ip: theirs ? row.ip : null,
        userAgent: theirs ? row.userAgent : null,
        requestId: theirs ? row.requestId : null,
        details: JSON.parse(row.details) as unknown,
      });
    });
    yield Buffer.from(lines.join(""));
    after = rows.at(-1)!.seq;
  }
}

/** Every workspace the person owns, deleted ones included (until the purge removes them). */
async function ownedWorkspaces(control: ControlDbHandle, userId: string): Promise<WorkspaceToDump[]> {
  return control.db
    .select({ id: workspaces.id, name: workspaces.name, createdAt: workspaces.createdAt, deletedAt: workspaces.deletedAt })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), eq(memberships.role, "owner")))
    .orderBy(asc(workspaces.id));
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

export type ExportDownload = { body: ReadableStream<Uint8Array>; filename: string };

/**
 * "Download my data": for a session that re-entered its password (and code) in the last ten
 * minutes, at most three times an hour per account and per IP. Checks run before the first
 * byte; the archive then streams. The audit row (control chain, and one in each workspace
 * exported) is written when the archive ends, with what was sent and how it ended.
 */
export async function exportAccount(signedIn: SignedIn, ip: string, now = Date.now()): Promise<ExportDownload> {
  await requireRecentReauth(signedIn, now);
  await limitAccountExport(ip, signedIn.user.id);
  const control = await getControlDb();
  const userId = signedIn.user.id;
  const files = await accountFiles(control, signedIn);
  const owned = await ownedWorkspaces(control, userId);
  const dumped = new Map<string, DumpFigures>();
  const stream = startArchive({
    kind: "account",
    readme: README_ACCOUNT + README_WORKSPACE_FOLDER,
    createdAt: new Date(now),
    write: async (archive) => {
      await archive.add("account.json", json(files.account));
      await archive.add("tokens.json", json(files.tokens));
      await archive.add("ai-clients.json", json(files.aiClients));
      if (files.billing) await archive.add("billing.json", json(files.billing));
      await archive.add("audit.jsonl", personAuditLines(control, signedIn.user, files.theirTargets));
      for (const workspace of owned) dumped.set(workspace.id, await dumpWorkspace(archive, workspace, now));
    },
    settle: async (outcome, figures) => {
      const actor = { type: "user", id: userId } as const;
      for (const [workspaceId, dump] of dumped) await recordWorkspaceExport(workspaceId, actor, outcome, dump, "account_export");
      await auditControl({ actor, action: "account.export", target: userId, details: { outcome, ...figures, workspaces: owned.map((w) => w.id) } });
    },
  });
  return { body: toWebStream(stream), filename: `enclave-export-${new Date(now).toISOString().slice(0, 10)}.zip` };
}

async function recordWorkspaceExport(workspaceId: string, actor: Actor, outcome: ArchiveOutcome, figures: ArchiveFigures, via: string) {
  try {
    await auditWorkspace(workspaceId, { actor, action: "workspace.export", target: workspaceId, details: { outcome, via, ...figures } });
  } catch (error) {
    // A workspace purged while its export streamed has no chain left to write to.
    logger.warn({ err: error, workspaceId }, "could not record a workspace export");
  }
}

/** The download as a response: an attachment nothing caches. */
export function exportResponse(download: ExportDownload): Response {
  return new Response(download.body, {
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${download.filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

// ---- one workspace, for the operator ----

export type WorkspaceExport = { stream: Readable; done: Promise<{ outcome: ArchiveOutcome; figures: ArchiveFigures }> };

/**
 * `enclave workspace export`: one workspace's folder (the same code as the account export's),
 * audited in the workspace's chain when the archive ends.
 */
export async function exportWorkspace(access: WorkspaceAccess<"audit">, onProgress?: (figures: ArchiveFigures) => void, now = Date.now()): Promise<WorkspaceExport> {
  const control = await getControlDb();
  const [workspace] = await control.db
    .select({ id: workspaces.id, name: workspaces.name, createdAt: workspaces.createdAt, deletedAt: workspaces.deletedAt })
    .from(workspaces)
    .where(eq(workspaces.id, access.workspaceId));
  if (!workspace) throw notFound("No such workspace.");
  let settled!: (value: { outcome: ArchiveOutcome; figures: ArchiveFigures }) => void;
  const done = new Promise<{ outcome: ArchiveOutcome; figures: ArchiveFigures }>((resolve) => (settled = resolve));
  const stream = startArchive({
    kind: "workspace",
    readme: README_WORKSPACE + README_WORKSPACE_FOLDER,
    createdAt: new Date(now),
    onProgress,
    write: async (archive) => {
      await dumpWorkspace(archive, workspace, now);
    },
    settle: async (outcome, figures) => {
      await recordWorkspaceExport(workspace.id, access.actor, outcome, figures, "workspace_export");
      settled({ outcome, figures });
    },
  });
  return { stream, done };
}
