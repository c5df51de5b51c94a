import { z } from "zod";

export const mfaCodeSchema = z.object({ code: z.string().trim().min(6, "Enter the 6-digit code.").max(64) });
