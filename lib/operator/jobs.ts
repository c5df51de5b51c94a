import { z } from "zod";
import { notFound } from "../http/errors";
import { findJob } from "../jobs/jobs";
import { runJob, type RunResult } from "../jobs/runner";

/** POST /api/operator/jobs/{job}/run: one job now, under its lease, recorded with trigger `operator`. */
export const jobRunResultSchema = z.discriminatedUnion("outcome", [
  z.object({ outcome: z.literal("ok"), figures: z.record(z.string(), z.number()), ms: z.number() }),
  z.object({ outcome: z.literal("failed"), error: z.string(), ms: z.number() }),
  z.object({ outcome: z.literal("skipped"), reason: z.string().describe("not configured, or another process is running it") }),
]);

export async function runJobForOperator(name: string): Promise<RunResult> {
  const job = findJob(name);
  if (!job) throw notFound("No such job. `enclave jobs list` names them.");
  return runJob(job, "operator");
}
