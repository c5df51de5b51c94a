import { asc, eq, gt, sql } from "drizzle-orm";
import { agentSessions, artifacts, events, knowledge, links } from "@/db/workspace/schema";
import { workspaceAuditLog } from "../audit/audit";
import { readAuditHead, type AuditRow } from "../audit/chain";
import { readWorkspaceSnapshot, type WorkspaceDb } from "../db/store";
import { isTextualMediaType } from "../workspace/artifacts";
import { readRedactionSettings } from "../workspace/redaction-settings";
import type { ArchiveWriter } from "./archive";
import {
  artifactFile,
  artifactLine,
  EXPORT_FORMAT,
  eventLine,
  jsonLine,
  knowledgeLine,
  linkLine,
  sessionLine,
  WORKSPACE_FILES,
  workspaceFolder,
  type WorkspaceMeta,
} from "./export-format";

/**
 * One workspace's folder in an archive (the account export and `enclave workspace export`
 * both write it): every table as JSON Lines in primary-key order, artifacts as their bytes,
 * the audit trail whole (with its hashes, so it can be checked against the chain). Everything
 * is read from one snapshot, so the folder is the workspace at one instant even while agents
 * keep writing, and a page at a time, so its size does not matter.
 */
export type WorkspaceToDump = { id: string; name: string; createdAt: number; deletedAt: number | null };
export type DumpFigures = { files: number; bytes: number; knowledge: number; sessions: number; events: number; links: number; artifacts: number };

// Rows per read: a knowledge body or a session state may be 256 KiB, so a page stays a few MiB at most.
const PAGE = 64;
// Lines are handed on in chunks of about this size, not one by one.
const CHUNK_BYTES = 64 * 1024;

/** The JSON Lines of a keyset-paged query, `PAGE` rows per read, batched into chunks; `count.rows` is how many. */
async function* jsonLines<R>(page: (last: R | undefined) => Promise<R[]>, line: (row: R) => unknown, count: { rows: number }): AsyncGenerator<Buffer> {
  let pending: string[] = [];
  let pendingBytes = 0;
  let last: R | undefined;
  for (;;) {
    const rows = await page(last);
    for (const row of rows) {
      const text = jsonLine(line(row));
      pending.push(text);
      pendingBytes += text.length;
      count.rows += 1;
      if (pendingBytes >= CHUNK_BYTES) {
        yield Buffer.from(pending.join(""));
        pending = [];
        pendingBytes = 0;
      }
    }
    if (rows.length < PAGE) break;
    last = rows.at(-1);
  }
  if (pending.length > 0) yield Buffer.from(pending.join(""));
}

export async function dumpWorkspace(archive: ArchiveWriter, workspace: WorkspaceToDump, exportedAt: number): Promise<DumpFigures> {
  const folder = workspaceFolder(workspace.id);
  const before = archive.figures;
  return readWorkspaceSnapshot(workspace.id, async ({ db }) => {
    const counts = { knowledge: { rows: 0 }, sessions: { rows: 0 }, events: { rows: 0 }, links: { rows: 0 } };
    const auditHead = await readAuditHead(db, workspaceAuditLog);
    const meta: WorkspaceMeta = {
      format: EXPORT_FORMAT,
      id: workspace.id,
      name: workspace.name,
      createdAt: workspace.createdAt,
      deletedAt: workspace.deletedAt,
      exportedAt,
      audit: auditHead ?? { seq: 0, hash: "0".repeat(64) },
    };
    const add = (file: string, source: AsyncIterable<Buffer> | Buffer) => archive.add(folder + file, source);
    await add(WORKSPACE_FILES.meta, Buffer.from(jsonLine(meta)));
    await add(WORKSPACE_FILES.settings, Buffer.from(jsonLine({ redaction: await readRedactionSettings(db) })));
    await add(
      WORKSPACE_FILES.knowledge,
      jsonLines((last) => db.select().from(knowledge).where(last && gt(knowledge.id, last.id)).orderBy(asc(knowledge.id)).limit(PAGE), knowledgeLine, counts.knowledge),
    );
    await add(
      WORKSPACE_FILES.sessions,
      jsonLines(
        (last) => db.select().from(agentSessions).where(last && gt(agentSessions.name, last.name)).orderBy(asc(agentSessions.name)).limit(PAGE),
        sessionLine,
        counts.sessions,
      ),
    );
    await add(
      WORKSPACE_FILES.events,
      jsonLines((last) => db.select().from(events).where(last && gt(events.seq, last.seq)).orderBy(asc(events.seq)).limit(PAGE), eventLine, counts.events),
    );
    await add(
      WORKSPACE_FILES.links,
      jsonLines(
        (last) =>
          db
            .select()
            .from(links)
            .where(last && sql`(${links.fromId}, ${links.toId}, ${links.relation}) > (${last.fromId}, ${last.toId}, ${last.relation})`)
            .orderBy(asc(links.fromId), asc(links.toId), asc(links.relation))
            .limit(PAGE),
        linkLine,
        counts.links,
      ),
    );
    const artifactCount = await dumpArtifacts(archive, folder, db);
    await add(
      WORKSPACE_FILES.audit,
      jsonLines<AuditRow>(
        (last) => db.select().from(workspaceAuditLog).where(last && gt(workspaceAuditLog.seq, last.seq)).orderBy(asc(workspaceAuditLog.seq)).limit(PAGE),
        (row) => ({ ...row, details: JSON.parse(row.details) as unknown }),
        { rows: 0 },
      ),
    );
    const after = archive.figures;
    return {
      files: after.files - before.files,
      bytes: after.bytes - before.bytes,
      knowledge: counts.knowledge.rows,
      sessions: counts.sessions.rows,
      events: counts.events.rows,
      links: counts.links.rows,
      artifacts: artifactCount,
    };
  });
}

/**
 * Each artifact's bytes, one at a time in name order, then artifacts.jsonl: name, content
 * type, and the size and SHA-256 of the bytes as written, with the file each went in.
 */
async function dumpArtifacts(archive: ArchiveWriter, folder: string, db: WorkspaceDb["db"]): Promise<number> {
  const index: string[] = [];
  let last: string | undefined;
  for (;;) {
    // Names only (from the primary key's index): the columns stored after the bytes could only
    // be reached by reading every artifact's overflow pages, for a listing.
    const names = await db.select({ name: artifacts.name }).from(artifacts).where(last === undefined ? undefined : gt(artifacts.name, last)).orderBy(asc(artifacts.name)).limit(PAGE);
    for (const { name } of names) {
      // One artifact at a time (at most ENCLAVE_ARTIFACT_MAX_BYTES), from the same snapshot as the listing.
      const [row] = await db.select().from(artifacts).where(eq(artifacts.name, name));
      if (!row) continue;
      const file = artifactFile(index.length + 1, row.name);
      const written = await archive.add(folder + file, row.bytes, isTextualMediaType(row.contentType) ? "deflate" : "store");
      index.push(jsonLine(artifactLine(row, file, written)));
    }
    if (names.length < PAGE) break;
    last = names.at(-1)?.name;
  }
  await archive.add(folder + WORKSPACE_FILES.artifacts, Buffer.from(index.join("")));
  return index.length;
}
