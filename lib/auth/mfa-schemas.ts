import { z } from "zod";
import { text } from "../http/text";

export const mfaCodeSchema = z.object({ code: text(64).trim().min(6, "Enter the 6-digit code.") });
