import { z } from "zod";

/**
 * The period of an evidence bundle: whole UTC days, `from` and `to` both included. Its own
 * module, free of server code, so the portal's form checks a period by the same rule as the
 * endpoint and the CLI.
 */
export const MAX_EVIDENCE_PERIOD_DAYS = 400;
const DAY_MS = 24 * 60 * 60 * 1000;

const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);
/** Today's UTC date as YYYY-MM-DD. */
export const utcToday = (now = Date.now()): string => new Date(now).toISOString().slice(0, 10);

const utcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Give a date as YYYY-MM-DD.")
  // Date.parse rolls 2026-02-30 over to March: only a date that reads back the same is one.
  .refine((day) => !Number.isNaN(dayStart(day)) && utcToday(dayStart(day)) === day, "That is not a calendar date.");

export const evidencePeriodSchema = z
  .object({ from: utcDay, to: utcDay })
  .refine((period) => period.from <= period.to, { message: "The period ends before it starts.", path: ["to"] })
  .refine((period) => (dayStart(period.to) - dayStart(period.from)) / DAY_MS + 1 <= MAX_EVIDENCE_PERIOD_DAYS, {
    message: `A bundle covers at most ${MAX_EVIDENCE_PERIOD_DAYS} days; export a longer span as several bundles.`,
    path: ["to"],
  })
  // A period that has not ended would be signed as complete while it is still filling.
  .refine((period) => period.to <= utcToday(), { message: "The period ends in the future; it can end today at the latest.", path: ["to"] });

export type EvidencePeriod = z.infer<typeof evidencePeriodSchema>;

/** The period as milliseconds: rows stamped at or after `fromMs` and before `endMs`. */
export const periodBounds = (period: EvidencePeriod) => ({ fromMs: dayStart(period.from), endMs: dayStart(period.to) + DAY_MS });
