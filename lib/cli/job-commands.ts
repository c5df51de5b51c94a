import { getControlDb } from "../db/store";
import { findJob, jobNames } from "../jobs/jobs";
import { dueJobs, lastRuns, runJob, schedule, type RunResult } from "../jobs/runner";
import { CliUsageError, options } from "./args";

/** `enclave jobs …`: the periodic jobs by hand, or from a systemd timer when ENCLAVE_JOBS=off. */
export const JOB_USAGE = `  enclave jobs list                              (each job, its schedule and its last run)
  enclave jobs run NAME | --due                  (one job now, or every job whose interval has passed;
                                                  exit 1 if a job failed)`;

const iso = (ms: number | null | undefined) => (ms == null ? "-" : new Date(ms).toISOString());

function report(name: string, result: RunResult): void {
  if (result.outcome === "ok") console.log(`${name}: ok in ${result.ms} ms ${JSON.stringify(result.figures)}`);
  else if (result.outcome === "skipped") console.log(`${name}: skipped (${result.reason})`);
  else {
    console.log(`${name}: FAILED after ${result.ms} ms: ${result.error}`);
    process.exitCode = 1;
  }
}

export async function runJobCommand(verb: string | undefined, args: string[]): Promise<void> {
  await getControlDb();
  if (verb === "list") {
    options(args, []);
    const last = await lastRuns();
    console.log(["job", "every", "last started", "outcome", "figures", "description"].join("\t"));
    for (const { job, everyMinutes } of schedule()) {
      const run = last.get(job.name);
      const outcome = run ? (run.outcome === "failed" ? `failed: ${run.error ?? ""}` : run.outcome) : "never run";
      console.log([job.name, `${everyMinutes}m`, iso(run?.startedAt), outcome, run?.figures ?? "-", job.description].join("\t"));
    }
  } else if (verb === "run") {
    const { positionals, flags } = options(args, [], args.includes("--due") ? 0 : 1, ["due"]);
    if (flags.due) {
      for (const job of await dueJobs()) report(job.name, await runJob(job, "cli"));
      return;
    }
    const name = positionals[0] ?? "";
    const job = findJob(name);
    if (!job) throw new CliUsageError(`no job "${name}" (jobs: ${jobNames.join(", ")})`);
    report(job.name, await runJob(job, "cli"));
  } else {
    throw new CliUsageError(`unknown command "jobs ${verb ?? ""}"`);
  }
}
