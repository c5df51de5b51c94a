import { rotateMasterKey, type RotatedFile, type RotationResult } from "../backup/key-rotation";
import { getConfig } from "../config";
import { acquireLease } from "../db/lease";
import { callerPath, CliUsageError, options } from "./args";

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

export function printRotatedFile(step: RotatedFile): void {
  const what = step.outcome === "already" ? "already re-keyed" : `${megabytes(step.bytes)} MB in ${Math.round(step.ms)} ms`;
  console.log(`[${step.index}/${step.total}] ${step.file}: ${what}`);
}

export function printRotationResult(result: RotationResult): void {
  console.log(`master key rotated${result.resumed ? " (an interrupted rotation, finished)" : ""}: ${result.oldKeyId} -> ${result.newKeyId}, ${result.files} files re-keyed`);
  console.log(`audit signing key id is now ${result.newAuditKeyId} (was ${result.oldAuditKeyId}): checkpoints and evidence bundles signed before verify with the old public key; \`enclave audit public-key\` prints the new one`);
  console.log("backups taken before this rotation restore only with the old master key: keep a copy of it with the backups, off this machine");
}

export async function runKeyCommand(verb: string | undefined, args: string[]): Promise<void> {
  if (verb !== "rotate") throw new CliUsageError(`unknown command "key ${verb ?? ""}"`);
  const { values } = options(args, ["new-key-file"]);
  const newKeyFile = values["new-key-file"] === undefined ? undefined : callerPath(values["new-key-file"]);
  // Held for the whole run: a server starting meanwhile refuses, and one already serving makes this refuse.
  const lease = acquireLease(getConfig().dataDir, "key-rotation");
  try {
    const result = await rotateMasterKey({ newKeyFile, onFile: printRotatedFile });
    printRotationResult(result);
    if (newKeyFile) console.log(`the new key is now ${getConfig().dataDir}/master.key: remove ${newKeyFile} once you have stored a copy safely`);
  } finally {
    lease.release();
  }
}
