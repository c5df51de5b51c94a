import type { Logger } from "pino";
import { getControlDb, getStore, withWorkspace } from "../db/store";
import { logger } from "../log/logger";
import { controlAuditLog, takeWrittenChains, workspaceAuditLog, type AuditChain } from "./audit";
import { readAuditHead, workspaceIdOfChain, type ChainHead } from "./chain";
import { auditSigner, CHECKPOINT_MESSAGE, signCheckpoint, type CheckpointLine } from "./checkpoint";

/**
 * Puts signed checkpoints into the log stream: control.db's chain every time (a steady
 * heartbeat, and it catches the CLI's writes), and each workspace chain this process appended
 * to since the last emission. Rows written after the last checkpoint (a crash, or a workspace
 * only the CLI wrote to) are covered by the stored head alone until the next checkpoint.
 */
const CHECKPOINT_EVERY_MS = 60 * 60 * 1000;

type CheckpointLog = Pick<Logger, "info" | "warn" | "error" | "isLevelEnabled">;

export async function emitAuditCheckpoints(log: CheckpointLog = logger, now = Date.now()): Promise<CheckpointLine[]> {
  const signer = auditSigner(getStore().masterKey);
  const control = await getControlDb();
  const heads: [AuditChain, ChainHead | null][] = [["control", await readAuditHead(control.db, controlAuditLog)]];
  for (const chain of takeWrittenChains()) {
    const workspaceId = workspaceIdOfChain(chain);
    if (workspaceId === null) continue;
    try {
      heads.push([chain, await withWorkspace(workspaceId, (db) => readAuditHead(db.db, workspaceAuditLog))]);
    } catch (error) {
      // Most likely deleted since it was written: nothing is left to checkpoint.
      log.warn({ err: error, chain }, "audit checkpoint skipped: the workspace could not be opened");
    }
  }
  const lines: CheckpointLine[] = [];
  for (const [chain, head] of heads) {
    if (!head) {
      log.error({ chain }, "audit checkpoint skipped: the chain has no head (run `enclave audit verify`)");
      continue;
    }
    const line = signCheckpoint(signer, { chain, seq: head.seq, hash: head.hash, at: now });
    log.info(line, CHECKPOINT_MESSAGE);
    lines.push(line);
  }
  return lines;
}

/** Emits every hour and once more on `stop()` (shutdown, before the store closes); never rejects. */
export function startAuditCheckpoints(log: CheckpointLog = logger, everyMs = CHECKPOINT_EVERY_MS): { stop: () => Promise<void> } {
  // Checkpoints are info lines: a quieter LOG_LEVEL would drop them without a word.
  if (!log.isLevelEnabled("info")) log.warn("LOG_LEVEL is above info: audit checkpoints will not reach the log");
  // One emission at a time, so the last one (at shutdown) finishes after any hourly one in flight.
  let queue: Promise<void> = Promise.resolve();
  const emit = () => {
    queue = queue.then(() => emitAuditCheckpoints(log)).then(
      () => undefined,
      (error: unknown) => log.error({ err: error }, "audit checkpoint failed"),
    );
    return queue;
  };
  const timer = setInterval(() => void emit(), everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return emit();
    },
  };
}
