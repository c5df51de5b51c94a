import { getConfig } from "@/lib/config";
import { handleRequest } from "@/lib/api/route";
import { HttpError } from "@/lib/http/errors";
import { logger } from "@/lib/log/logger";
import { securityTxt } from "@/lib/trust/security-txt";

let hinted = false;

export const GET = (request: Request) =>
  handleRequest(request, undefined, () => {
    const text = securityTxt(getConfig(), Date.now());
    if (text === null) {
      // Once per process: a scanner asking every minute should not fill the log.
      if (!hinted) logger.warn("/.well-known/security.txt answers 404: set ENCLAVE_SECURITY_CONTACT (a mailto: or https: URL) to publish one");
      hinted = true;
      return Promise.reject(new HttpError(404, "not_found", "This instance publishes no security contact."));
    }
    return Promise.resolve(new Response(text, { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=3600" } }));
  });
