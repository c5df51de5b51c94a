import { HttpError } from "@/lib/http/errors";
import { oauthEndpoint, oauthPreflight } from "@/lib/api/oauth-route";

// Any other /.well-known path (OpenID discovery, path-suffixed probes): a clean JSON 404, so
// discovery clients move on, and no HTML page is served from a path the proxy does not cover.
export const GET = oauthEndpoint(() =>
  Promise.reject(new HttpError(404, "not_found", "Nothing here. Enclave publishes /.well-known/oauth-authorization-server and /.well-known/oauth-protected-resource/mcp.")),
);
export const OPTIONS = oauthPreflight("GET");
