import fs from "node:fs";
import path from "node:path";
import { onBackupProgress, type BackupProgress } from "../backup/backup";
import { DirectoryTarget } from "../backup/directory-target";
import { BACKUP_ID_PATTERN } from "../backup/manifest";
import { readVerifiedManifest, restoreBackup } from "../backup/restore";
import type { BackupTarget } from "../backup/target";
import { configuredTarget } from "../backup/targets";
import { getConfig } from "../config";
import { MASTER_KEY_FILE } from "../crypto/keys";
import { getControlDb, getStore } from "../db/store";
import { findJob } from "../jobs/jobs";
import { runJob } from "../jobs/runner";
import { callerPath, CliUsageError, options } from "./args";
import { DRILL_USAGE, restoreOneWorkspace, runDrillCommand } from "./drill-commands";

export const BACKUP_USAGE = `  enclave backup run                             (a backup now, through the jobs runner: progress on stderr,
                                                  the backup id last on stdout)
  enclave backup list                            (each set on the configured target: id, time, files, bytes)
  enclave backup restore --from <backup id | dir of a set> --identity AGE_KEY_FILE --to EMPTY_DIR
                         [--master-key-file F]   (a complete data dir; the master key defaults to this
                                                  instance's, a key from another instance or from before a
                                                  rotation comes by the file)
${DRILL_USAGE}`;

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

/** One line per file; redrawn in place while it runs when stderr is a terminal. */
function progressLine(progress: BackupProgress): string {
  const rate = progress.ms > 0 ? mb((progress.bytes / progress.ms) * 1000) : "-";
  const name = progress.database === "control" ? "control.db" : progress.database;
  return `[${progress.index}/${progress.total}] ${name} ${mb(progress.bytes)}/${mb(progress.size)} MB ${rate} MB/s${progress.done ? ` in ${(progress.ms / 1000).toFixed(1)} s` : ""}`;
}

function showProgress(progress: BackupProgress): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${progressLine(progress)}${progress.done ? "\n" : ""}`);
  else if (progress.done) process.stderr.write(`${progressLine(progress)}\n`);
}

/**
 * The master key a restore checks the manifest with and opens the files by: --master-key-file,
 * else this instance's (ENCLAVE_MASTER_KEY, or master.key in the data dir) — read, never made:
 * on a new machine a fresh key would only fail later, and leave a stray key file behind.
 */
function restoreMasterKey(file: string | undefined): Buffer {
  const config = getConfig();
  if (file === undefined && config.ENCLAVE_MASTER_KEY) return config.ENCLAVE_MASTER_KEY;
  const keyFile = file === undefined ? path.join(config.dataDir, MASTER_KEY_FILE) : callerPath(file);
  if (!fs.existsSync(keyFile)) {
    throw new CliUsageError(file === undefined ? `no master key: ${keyFile} does not exist and ENCLAVE_MASTER_KEY is unset; pass --master-key-file` : `--master-key-file: ${keyFile} does not exist`);
  }
  const text = fs.readFileSync(keyFile, "utf8").trim();
  // The content is a secret: say what is wrong with it, never show it.
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new CliUsageError(`${file === undefined ? keyFile : "--master-key-file"}: not 64 hex characters`);
  return Buffer.from(text, "hex");
}

/** `--from`: a backup id on the configured target, or the folder of one set (a copy taken off-site). */
function restoreSource(from: string): { target: BackupTarget; backupId: string } {
  if (BACKUP_ID_PATTERN.test(from)) return { target: configuredTarget(getConfig()), backupId: from };
  const dir = callerPath(from);
  const backupId = path.basename(dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliUsageError(`--from: ${dir} is neither a backup id nor the folder of a backup set`);
  if (!BACKUP_ID_PATTERN.test(backupId)) throw new CliUsageError(`--from: ${dir} is not named as a backup set is (such as 20261202T053000Z-1a2b3c)`);
  return { target: new DirectoryTarget(path.dirname(dir)), backupId };
}

export async function runBackupCommand(verb: string | undefined, args: string[]): Promise<void> {
  if (verb === "run") {
    options(args, []);
    await getControlDb();
    let backupId: string | undefined;
    const stop = onBackupProgress((progress) => {
      backupId = progress.backupId;
      showProgress(progress);
    });
    try {
      const result = await runJob(findJob("backup")!, "cli");
      if (result.outcome === "ok") {
        console.error(`backup: ${result.figures.files} files, ${mb(result.figures.bytes ?? 0)} MB in ${result.figures.seconds} s; pruned ${result.figures.pruned} old sets`);
        if (backupId) console.log(backupId);
      } else {
        console.error(result.outcome === "skipped" ? `backup: skipped (${result.reason})` : `backup: FAILED: ${result.error}`);
        process.exitCode = 1;
      }
    } finally {
      stop();
    }
  } else if (verb === "list") {
    options(args, []);
    await getControlDb();
    const target = configuredTarget(getConfig());
    for (const backupId of await target.list()) {
      try {
        const manifest = await readVerifiedManifest(target, backupId, getStore().masterKey);
        const bytes = manifest.files.reduce((sum, file) => sum + file.ciphertextBytes, 0);
        console.log([backupId, new Date(manifest.createdAt).toISOString(), `${manifest.files.length} files`, `${bytes} bytes`].join("\t"));
      } catch (error) {
        // One unreadable set must not hide the others; a set from before a key rotation lands here too.
        console.log([backupId, "-", "-", `unverified: ${(error as Error).message}`].join("\t"));
      }
    }
  } else if (verb === "drill" || verb === "drills") {
    await runDrillCommand(verb, args);
  } else if (verb === "restore") {
    const { values } = options(args, ["from", "identity", "to", "master-key-file", "workspace"]);
    // --workspace swaps one workspace in this live instance (with its master key); --to makes a whole data dir.
    const required = values.workspace === undefined ? (["from", "identity", "to"] as const) : (["from", "identity"] as const);
    for (const name of required) if (values[name] === undefined) throw new CliUsageError(`--${name} is required`);
    if (values.workspace !== undefined && (values.to !== undefined || values["master-key-file"] !== undefined)) {
      throw new CliUsageError("--workspace restores into this instance, with its own master key: not with --to or --master-key-file");
    }
    const { target, backupId } = restoreSource(values.from!);
    const identityFile = callerPath(values.identity!);
    if (!fs.existsSync(identityFile)) throw new CliUsageError(`--identity: ${identityFile} does not exist`);
    if (values.workspace !== undefined) return restoreOneWorkspace(values.workspace, { target, backupId }, fs.readFileSync(identityFile, "utf8"));
    const masterKey = restoreMasterKey(values["master-key-file"]);
    const to = callerPath(values.to!);
    const result = await restoreBackup({ target, backupId, identity: fs.readFileSync(identityFile, "utf8"), masterKey, to });
    console.log(`restored backup ${backupId} from ${target.description}: ${result.files} databases, ${mb(result.bytes)} MB, checked, in ${(result.ms / 1000).toFixed(1)} s`);
    console.log(`start Enclave on it with ENCLAVE_DATA_DIR=${to}`);
  } else {
    throw new CliUsageError(`unknown command "backup ${verb ?? ""}"`);
  }
}
