import type { Readable } from "node:stream";

/**
 * Where backup sets are kept: a directory (ENCLAVE_BACKUP_DIR) or an S3-compatible bucket
 * (ENCLAVE_BACKUP_S3_*). Paths are relative to one set, as lib/backup/manifest.ts names them
 * (`control.db.age`, `workspaces/<id>.db.age`, `manifest.json`).
 */
export interface BackupTarget {
  /** For logs and the CLI: `directory /var/lib/enclave-backups` or `s3://bucket/prefix/`. */
  readonly description: string;
  /** Writes one file of a set; it appears under its name only once complete (no half files). */
  write(backupId: string, file: string, body: Readable): Promise<void>;
  /** Reads one file of a set; a missing set or file rejects with BackupNotFoundError. */
  read(backupId: string, file: string): Promise<Readable>;
  /** Ids of the complete sets (those whose manifest.json exists), oldest first. */
  list(): Promise<string[]>;
  /**
   * Every set, complete or not (a run that crashed before its manifest), oldest first: the
   * retention sweep removes incomplete sets that are old enough to be abandoned.
   */
  sets(): Promise<BackupSetEntry[]>;
  /**
   * The complete files of one set (relative paths, no half-written ones), so a restore can
   * refuse a set holding a file its manifest does not list; a missing set rejects with BackupNotFoundError.
   */
  files(backupId: string): Promise<string[]>;
  /** Removes a set and everything in it (complete or not); a set already gone is not an error. */
  remove(backupId: string): Promise<void>;
}

export type BackupSetEntry = { backupId: string; complete: boolean };

export class BackupNotFoundError extends Error {
  override name = "BackupNotFoundError";
}
