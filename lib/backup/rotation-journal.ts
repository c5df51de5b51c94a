import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { deriveControlKey, deriveWorkspaceKey, ROTATION_JOURNAL_FILE } from "../crypto/keys";
import { fsyncDir, writeFileAtomic } from "../db/files";

/**
 * The journal of a master-key rotation, DATA_DIR/rotation.json (0600, replaced atomically
 * after every step). It names the keys only by their ids (masterKeyId, the audit key ids),
 * never by a byte of them, and lists every database file of the data dir as it was when the
 * rotation began, and those re-keyed so far. Its presence alone stops every store from opening
 * (loadMasterKey), and the server finishes it before serving.
 */
const keyIdSchema = z.string().regex(/^mk_[0-9a-f]{16}$/);

// A journal is read back from disk: only names of our own form may reach path.join.
const WORKSPACE_FILE = new RegExp(`^workspaces/(${WORKSPACE_ID_PATTERN.source.replace(/^\^|\$$/g, "")})/workspace\\.db$`);
const databaseFileSchema = z.string().refine((name) => name === "control.db" || WORKSPACE_FILE.test(name), "not a database file of the data dir");

export const rotationJournalSchema = z.strictObject({
  version: z.literal(1),
  rotationId: z.string().regex(/^rot_[0-9a-f]{32}$/),
  startedAt: z.string(),
  oldKeyId: keyIdSchema,
  newKeyId: keyIdSchema,
  oldAuditKeyId: z.string(),
  newAuditKeyId: z.string(),
  files: z.array(databaseFileSchema),
  done: z.array(databaseFileSchema),
  /** Set once the `key.rotate` audit row is in control.db (its target is the rotation id, so a retry finds it). */
  audited: z.boolean(),
});
export type RotationJournal = z.infer<typeof rotationJournalSchema>;

export const journalPath = (dataDir: string) => path.join(dataDir, ROTATION_JOURNAL_FILE);

export class RotationError extends Error {
  override name = "RotationError";
}

export function readJournal(dataDir: string): RotationJournal | null {
  const file = journalPath(dataDir);
  if (!fs.existsSync(file)) return null;
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    throw new RotationError(`${file} is not JSON: it was not written by enclave key rotate; restore it or the data dir from a backup`);
  }
  const parsed = rotationJournalSchema.safeParse(value);
  if (!parsed.success) throw new RotationError(`${file} is not a rotation journal (${parsed.error.issues[0]?.message ?? "invalid"})`);
  return parsed.data;
}

export const writeJournal = (dataDir: string, journal: RotationJournal) => writeFileAtomic(journalPath(dataDir), JSON.stringify(journal, null, 2) + "\n");

// What a kill in the middle of writeFileAtomic or acquireLease leaves: half-written temporaries, never read.
const CRASH_LEFTOVER = /^(rotation\.json|master\.key\.next|lease\.json)\.[0-9]+\.tmp$/;

/** The rotation's last step: the journal goes, and with it any temporary a killed run left beside it. */
export function removeJournal(dataDir: string): void {
  for (const name of fs.readdirSync(dataDir)) if (CRASH_LEFTOVER.test(name)) fs.rmSync(path.join(dataDir, name), { force: true });
  fs.rmSync(journalPath(dataDir), { force: true });
  fsyncDir(dataDir);
}

/**
 * Every database file in the data dir, control.db first: the workspaces are read from the
 * folder, not from control.db, so a deleted workspace whose file is held for its purge is
 * re-keyed too. (Pending folders of an interrupted creation are settled by opening the store
 * before a rotation begins.)
 */
export function databaseFiles(dataDir: string): string[] {
  const root = path.join(dataDir, "workspaces");
  const workspaces = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((name) => WORKSPACE_ID_PATTERN.test(name) && fs.existsSync(path.join(root, name, "workspace.db")))
        .sort()
        .map((name) => `workspaces/${name}/workspace.db`)
    : [];
  return ["control.db", ...workspaces];
}

/** The SQLCipher key of a journal's file under `master`: the same derivation the store opens it with. */
export function fileKey(master: Buffer, file: string): Buffer {
  if (file === "control.db") return deriveControlKey(master);
  const workspaceId = WORKSPACE_FILE.exec(file)?.[1];
  if (!workspaceId) throw new RotationError(`${file} is not a database file of the data dir`);
  return deriveWorkspaceKey(master, workspaceId);
}
