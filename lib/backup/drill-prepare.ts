import { randomBytes } from "node:crypto";
import { desc, isNull, sql } from "drizzle-orm";
import { memberships, workspaces } from "@/db/control/schema";
import { agentSessions, artifacts, events, knowledge } from "@/db/workspace/schema";
import { authorize } from "../access/authorize";
import { actorOf, OPERATOR } from "../access/principal";
import { issueTeamToken } from "../access/tokens";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "../audit/audit";
import { createUser } from "../auth/users";
import { closeStore, getControlDb, withWorkspace, type WorkspaceDb } from "../db/store";

/**
 * The drill's child process (lib/backup/drill.ts runs it with ENCLAVE_DATA_DIR set to the
 * restored copy): the store is one per process, so the copy is opened here, never in the
 * process that serves the live data. It prints one JSON line on stdout.
 *
 *   prepare — a drill account with a random password, a member of the sample workspace (the
 *             one with the most kinds of data), a team token there, and one id of each kind of
 *             data to read back through HTTP;
 *   verify  — every audit chain in the copy (control.db and each workspace.db).
 *
 * Everything it writes goes to the throwaway copy, which the drill removes.
 */
export type DrillSample = {
  email: string;
  password: string;
  token: string;
  workspaceId: string;
  workspaces: number;
  knowledgeId: string | null;
  searchTerm: string | null;
  sessionName: string | null;
  eventCount: number;
  artifactName: string | null;
};

export type DrillAuditFigures = { files: number; rows: number; broken: string[] };

async function kindsOfData(db: WorkspaceDb["db"]): Promise<{ kinds: number; entries: number }> {
  const count = async (table: typeof knowledge | typeof agentSessions | typeof artifacts | typeof events) => (await db.select({ n: sql<number>`count(*)` }).from(table))[0]?.n ?? 0;
  const [entries, sessions, stored, published] = await Promise.all([count(knowledge), count(agentSessions), count(artifacts), count(events)]);
  return { kinds: [entries, sessions, stored, published].filter((n) => n > 0).length, entries };
}

async function prepare(): Promise<DrillSample> {
  const control = await getControlDb();
  const live = await control.db.select({ id: workspaces.id }).from(workspaces).where(isNull(workspaces.deletedAt));
  if (live.length === 0) throw new Error("the backup holds no workspace to read back");
  // The sample is the workspace with the most kinds of data to read back (then the most knowledge).
  const ranked = await Promise.all(live.map(async ({ id }) => ({ id, ...(await withWorkspace(id, (db) => kindsOfData(db.db))) })));
  const sample = ranked.reduce((best, next) => (next.kinds > best.kinds || (next.kinds === best.kinds && next.entries > best.entries) ? next : best));
  const picks = await withWorkspace(sample.id, async (db) => {
    const [entry] = await db.db.select({ id: knowledge.id, title: knowledge.title }).from(knowledge).orderBy(desc(knowledge.createdAt)).limit(1);
    const [session] = await db.db.select({ name: agentSessions.name }).from(agentSessions).limit(1);
    const [artifact] = await db.db.select({ name: artifacts.name }).from(artifacts).limit(1);
    const eventCount = (await db.db.select({ seq: events.seq }).from(events)).length;
    return { entry, session, artifact, eventCount };
  });

  const email = `drill-${randomBytes(6).toString("hex")}@drill.invalid`;
  const password = randomBytes(24).toString("base64url");
  const user = await createUser({ email, password }, actorOf(OPERATOR));
  await control.db.insert(memberships).values({ workspaceId: sample.id, userId: user.id, role: "member", createdAt: Date.now() });
  const { token } = await issueTeamToken(await authorize(OPERATOR, sample.id, "tokens"), { name: "restore drill", role: "member", expiresInDays: 1 });
  return {
    email,
    password,
    token,
    workspaceId: sample.id,
    workspaces: live.length,
    knowledgeId: picks.entry?.id ?? null,
    // A word of a title the search index must find again.
    searchTerm: picks.entry?.title.match(/[\p{L}\p{N}]{3,}/u)?.[0] ?? null,
    sessionName: picks.session?.name ?? null,
    eventCount: picks.eventCount,
    artifactName: picks.artifact?.name ?? null,
  };
}

async function verify(): Promise<DrillAuditFigures> {
  const control = await getControlDb();
  const figures: DrillAuditFigures = { files: 1, rows: 0, broken: [] };
  const controlVerdict = await verifyAuditChain(control.db, controlAuditLog);
  figures.rows += controlVerdict.rows;
  if (!controlVerdict.ok) figures.broken.push(`control.db at row ${controlVerdict.firstBadSeq}: ${controlVerdict.reason}`);
  for (const { id } of await control.db.select({ id: workspaces.id }).from(workspaces)) {
    const verdict = await withWorkspace(id, (db) => verifyAuditChain(db.db, workspaceAuditLog));
    figures.files += 1;
    figures.rows += verdict.rows;
    if (!verdict.ok) figures.broken.push(`workspace ${id} at row ${verdict.firstBadSeq}: ${verdict.reason}`);
  }
  return figures;
}

const mode = process.argv[2];
try {
  if (mode !== "prepare" && mode !== "verify") throw new Error("usage: drill-prepare.ts prepare|verify");
  const result = mode === "prepare" ? await prepare() : await verify();
  process.stdout.write(JSON.stringify(result) + "\n");
  await closeStore();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  await closeStore().catch(() => undefined);
  process.exitCode = 1;
}
