import type { Config } from "../config";
import { DirectoryTarget } from "./directory-target";
import type { BackupTarget } from "./target";

/** Builds the S3 target from the config (lib/backup/s3-target.ts); passed in so this file does not load the AWS SDK for a directory. */
export type S3TargetFactory = (config: Config) => BackupTarget;

/** Where backups go: the S3 bucket when ENCLAVE_BACKUP_S3_BUCKET is set, else ENCLAVE_BACKUP_DIR. */
export function configuredTarget(config: Config, makeS3?: S3TargetFactory): BackupTarget {
  if (config.ENCLAVE_BACKUP_S3_BUCKET !== undefined) {
    if (!makeS3) throw new Error("ENCLAVE_BACKUP_S3_BUCKET is set but the S3 target is not built on this branch");
    return makeS3(config);
  }
  return new DirectoryTarget(config.backupDir);
}
