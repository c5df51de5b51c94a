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
  /** Removes a set and everything in it (complete or not); a set already gone is not an error. */
  remove(backupId: string): Promise<void>;
}

export class BackupNotFoundError extends Error {
  override name = "BackupNotFoundError";
}
