import { z } from "zod";
import { getConfig } from "../config";
import { HttpError } from "../http/errors";
import { logger } from "../log/logger";

/**
 * Cloudflare Turnstile, verified on the server (a widget's token proves nothing until
 * siteverify says so). Off unless TURNSTILE_SECRET_KEY is set. Fails closed: a siteverify that
 * cannot be reached or answers nonsense refuses the request rather than letting it through.
 */
const siteverifySchema = z.object({ success: z.boolean() });
const VERIFY_TIMEOUT_MS = 5000;

export const turnstileEnabled = (): boolean => getConfig().TURNSTILE_SECRET_KEY !== undefined;

export async function assertTurnstile(token: string | undefined, ip: string): Promise<void> {
  const config = getConfig();
  if (!config.TURNSTILE_SECRET_KEY) return;
  if (!token) throw failed();
  const form = new URLSearchParams({ secret: config.TURNSTILE_SECRET_KEY, response: token });
  if (ip !== "unknown") form.set("remoteip", ip);
  let success: boolean;
  try {
    const response = await fetch(config.ENCLAVE_TURNSTILE_VERIFY_URL, { method: "POST", body: form, signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`siteverify answered ${response.status}`);
    success = siteverifySchema.parse(await response.json()).success;
  } catch (error) {
    logger.warn({ event: "turnstile_unavailable", err: error instanceof Error ? error.message : String(error) }, "Turnstile could not be verified");
    throw new HttpError(503, "challenge_unavailable", "The anti-abuse check could not be verified just now. Try again in a minute.", { "Retry-After": "60" });
  }
  if (!success) throw failed();
}

const failed = () => new HttpError(400, "challenge_failed", "The anti-abuse check did not pass. Complete it and send the form again.");
