import type { Config } from "../config";
import { DirectoryTarget } from "./directory-target";
import { s3Target } from "./s3-target";
import type { BackupTarget } from "./target";

/** Builds the S3 target from the config; a parameter so a test can count or wrap what is built. */
export type S3TargetFactory = (config: Config) => BackupTarget;

/** Where backups go: the S3 bucket when ENCLAVE_BACKUP_S3_BUCKET is set, else ENCLAVE_BACKUP_DIR. */
export function configuredTarget(config: Config, makeS3: S3TargetFactory = s3Target): BackupTarget {
  if (config.ENCLAVE_BACKUP_S3_BUCKET !== undefined) return makeS3(config);
  return new DirectoryTarget(config.backupDir);
}
