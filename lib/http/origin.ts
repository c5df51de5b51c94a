import { getConfig } from "../config";
import { HttpError } from "./errors";

/**
 * Cross-site request forgery brake for cookie-carrying calls: a browser always sends Origin on
 * a POST, and it must be this server's public origin. JSON bodies add a second brake, since a
 * cross-site form cannot send application/json without a CORS preflight that we never grant.
 */
export function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  if (origin !== null && origin !== getConfig().ENCLAVE_PUBLIC_URL.origin) {
    throw new HttpError(403, "forbidden_origin", "This request must come from Enclave's own pages.");
  }
  if (origin === null && fetchSite !== null && fetchSite !== "same-origin" && fetchSite !== "none") {
    throw new HttpError(403, "forbidden_origin", "This request must come from Enclave's own pages.");
  }
}

/** Only reads are safe from a browser without the same-origin brake. */
export const changesState = (request: Request) => !["GET", "HEAD"].includes(request.method);
