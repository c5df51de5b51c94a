import { createHash } from "node:crypto";
import path from "node:path";
import { controlSchema } from "@/db/control/schema";
import { workspaceSchema } from "@/db/workspace/schema";
import { authorize } from "@/lib/access/authorize";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { createUser } from "@/lib/auth/users";
import { databaseFiles, fileKey } from "@/lib/backup/rotation-journal";
import { Connection, WrongKeyError } from "@/lib/db/connection";
import { Database } from "@/lib/db/database";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { putArtifact } from "@/lib/workspace/artifacts";
import { deleteWorkspace } from "@/lib/lifecycle/workspace-deletion";
import { createWorkspace } from "@/lib/workspace/workspaces";

/**
 * A populated store for the rotation tests: one owner, `count` workspaces each with knowledge
 * (FTS-indexed), an artifact and their audit rows, the last one deleted (its file held for the
 * purge) when `deleteLast`. `bigArtifactBytes` makes the first three workspaces' files large, so a
 * kill has something long to land in.
 */
export async function seedRotationStore(count: number, options: { deleteLast?: boolean; bigArtifactBytes?: number } = {}): Promise<string[]> {
  const owner = await createUser({ email: `owner-${Math.random().toString(36).slice(2)}@example.com`, password: "correct horse battery" });
  const principal = { kind: "user" as const, userId: owner.id };
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const workspace = await createWorkspace({ type: "operator", ownerId: owner.id }, `Team ${index}`);
    ids.push(workspace.id);
    const knowledge = await authorize(principal, workspace.id, "knowledge");
    await createKnowledge(knowledge, { title: `Runbook ${index}`, body: `rotate the zebrafish key number ${index}`, tags: ["ops"] });
    await createKnowledge(knowledge, { title: "Notes", body: "plain words about nothing", tags: [] });
    const artifacts = await authorize(principal, workspace.id, "artifacts");
    const size = index < 3 && options.bigArtifactBytes ? options.bigArtifactBytes : 2048;
    await putArtifact(artifacts, "blob.bin", "application/octet-stream", Buffer.alloc(size, index % 251));
  }
  if (options.deleteLast && ids.length > 0) {
    const last = ids.at(-1) ?? "";
    await deleteWorkspace(await authorize(principal, last, "workspace:delete"), `Team ${count - 1}`);
  }
  return ids;
}

/** Opens one file of the data dir with `master`'s derived key, or null if that key does not open it. */
export async function openWith(dataDir: string, file: string, master: Buffer) {
  try {
    const connection = await Connection.open(path.join(dataDir, file), fileKey(master, file), { create: false });
    return file === "control.db" ? new Database(connection, controlSchema) : new Database(connection, workspaceSchema);
  } catch (error) {
    if (error instanceof WrongKeyError) return null;
    throw error;
  }
}

/**
 * Every row of every table of every file, hashed per file, each file opened with `master`,
 * and each file's audit chain verified. Throws if a file does not open with that key. The
 * rotation's own `key.rotate` row (and the head and sequence it moves) is left out of control.db's digest,
 * so before and after compare equal when nothing else changed.
 */
export async function digestDataDir(dataDir: string, master: Buffer): Promise<{ digests: Record<string, string>; chains: Record<string, boolean> }> {
  const digests: Record<string, string> = {};
  const chains: Record<string, boolean> = {};
  for (const file of databaseFiles(dataDir)) {
    const db = await openWith(dataDir, file, master);
    if (!db) throw new Error(`${file} does not open with this key`);
    try {
      const hash = createHash("sha256");
      const tables = await db.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
      for (const { name } of tables) {
        // The head and audit_log's autoincrement counter move with the rotation's row.
        if (file === "control.db" && (name === "audit_head" || name === "sqlite_sequence")) continue;
        const where = file === "control.db" && name === "audit_log" ? " WHERE action != 'key.rotate'" : "";
        const rows = await db.rows(`SELECT * FROM "${String(name)}"${where} ORDER BY rowid`).catch(() => db.rows(`SELECT * FROM "${String(name)}"`));
        const text = JSON.stringify(rows, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString("base64") : value));
        hash.update(`${String(name)}\n${text}\n`);
      }
      digests[file] = hash.digest("hex");
      const verdict = await verifyAuditChain(db.db, file === "control.db" ? controlAuditLog : workspaceAuditLog);
      chains[file] = verdict.ok;
    } finally {
      await db.close();
    }
  }
  return { digests, chains };
}
