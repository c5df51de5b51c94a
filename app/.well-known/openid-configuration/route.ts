import { HttpError } from "@/lib/http/errors";
import { oauthEndpoint, oauthPreflight } from "@/lib/oauth/http";

// Not an OpenID provider: clients that probe here get a clean JSON 404 and move on to RFC 8414.
export const GET = oauthEndpoint(() =>
  Promise.reject(new HttpError(404, "not_found", "Enclave is not an OpenID provider; see /.well-known/oauth-authorization-server.")),
);
export const OPTIONS = oauthPreflight("GET");
