import { getConfig } from "../config";
import { logger } from "../log/logger";
import { dueJobs, runJob } from "./runner";

/**
 * The in-process schedule: once a minute, run each job whose interval has passed since its last
 * start, whoever started it (this server, another, or a systemd timer), one job at a time. With
 * ENCLAVE_JOBS=off nothing runs here and `enclave jobs run --due` on a timer does the same.
 */
const TICK_MS = 60_000;

export function startJobScheduler(tickMs = TICK_MS): { stop: () => Promise<void> } {
  if (getConfig().ENCLAVE_JOBS === "off") {
    logger.info("ENCLAVE_JOBS=off: periodic jobs are left to `enclave jobs run` (systemd timers in ops/)");
    return { stop: () => Promise.resolve() };
  }
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        for (const job of await dueJobs()) {
          if (stopped) return;
          await runJob(job, "schedule");
        }
      } catch (error) {
        logger.error({ err: error }, "job scheduler tick failed");
      }
    });
  };
  tick();
  const timer = setInterval(tick, tickMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      return running;
    },
  };
}
