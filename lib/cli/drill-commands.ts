import fs from "node:fs";
import path from "node:path";
import type { DrillRecord, DrillStep } from "../backup/drill";
import { readVerifiedManifest, restoreDatabaseFile } from "../backup/restore";
import { swapInWorkspace } from "../backup/swap";
import type { BackupTarget } from "../backup/target";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { getControlDb, getStore, workspaceStagingFile } from "../db/store";
import { CLI_ACTOR, CliUsageError, options } from "./args";

export const DRILL_USAGE = `  enclave backup restore --workspace W --from <backup id | dir of a set> --identity AGE_KEY_FILE
                                                 (one workspace into this live instance, with the server running:
                                                  the file is checked first, then the workspace answers 503 for a
                                                  few seconds while it is swapped; audited. If it stops half-way,
                                                  the workspace stays offline: run the same command again)
  enclave backup drill                           (restore the latest backup into a temp dir, serve it on a loopback
                                                  port and try every primary path; exit 1 if any step fails)
  enclave backup drills                          (the last drills: when, backup, verdict, the failing step)`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const figuresText = (figures: Record<string, number>) =>
  Object.entries(figures)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");

function stepLine(step: DrillStep): string {
  return `${step.ok ? "ok  " : "FAIL"} ${step.name.padEnd(32)} ${seconds(step.ms).padStart(7)}  ${step.ok ? figuresText(step.figures) : (step.error ?? "")}`;
}

function drillLine(drill: DrillRecord): string {
  const took = drill.endedAt === null ? "-" : seconds(drill.endedAt - drill.startedAt);
  return [new Date(drill.startedAt).toISOString(), drill.backupId ?? "-", drill.outcome, took, drill.error ?? ""].join("\t");
}

export async function runDrillCommand(verb: "drill" | "drills", args: string[]): Promise<void> {
  options(args, []);
  await getControlDb();
  // Loaded only when used: the drill brings the MCP client and the child-process code with it.
  const { recentDrills, runDrill } = await import("../backup/drill");
  if (verb === "drills") {
    for (const drill of await recentDrills()) console.log(drillLine(drill));
    return;
  }
  const drill = await runDrill({ now: Date.now(), onStep: (step) => console.log(stepLine(step)) });
  if (drill.outcome === "ok") {
    console.log(`drill ${drill.id} of backup ${drill.backupId ?? "-"}: ok, ${drill.steps.length} steps`);
  } else {
    console.error(`drill ${drill.id} of backup ${drill.backupId ?? "-"}: FAILED at ${drill.error ?? "an unknown step"}`);
    process.exitCode = 1;
  }
}

/**
 * `backup restore --workspace W`: the workspace's file from the set, restored and checked beside
 * the live one (in workspaces/<W>.restore), then swapped in (lib/backup/swap.ts). It opens with
 * this instance's master key only: a set from before a key rotation restores whole, with --to.
 */
export async function restoreOneWorkspace(workspaceId: string, source: { target: BackupTarget; backupId: string }, identity: string): Promise<void> {
  if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw new CliUsageError(`--workspace: ${workspaceId.slice(0, 80)} is not a workspace id`);
  await getControlDb();
  const masterKey = getStore().masterKey;
  const manifest = await readVerifiedManifest(source.target, source.backupId, masterKey);
  // Emptied first: a file left by a run that stopped half-way is restored again from the set.
  const staged = workspaceStagingFile(workspaceId, { fresh: true });
  try {
    await restoreDatabaseFile({ ...source, manifest, database: workspaceId, identity, masterKey, outFile: staged });
  } catch (error) {
    fs.rmSync(path.dirname(staged), { recursive: true, force: true });
    throw error;
  }
  console.error(`restored and checked workspace ${workspaceId} from backup ${source.backupId}; taking it offline to swap`);
  const result = await swapInWorkspace(workspaceId, staged, { backupId: source.backupId, actor: CLI_ACTOR });
  console.log(`workspace ${workspaceId} is back, from backup ${source.backupId} (${result.auditRows} audit rows; offline ${seconds(result.offlineMs)})`);
}
