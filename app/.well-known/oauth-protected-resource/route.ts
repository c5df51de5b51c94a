import { protectedResourceMetadata } from "@/lib/oauth/metadata";
import { oauthEndpoint, oauthPreflight } from "@/lib/api/oauth-route";

// RFC 9728 §3.1: the path-suffixed form (/mcp) is the canonical one; this is for clients that ask at the root.
export const GET = oauthEndpoint(() => Promise.resolve(Response.json(protectedResourceMetadata())));
export const OPTIONS = oauthPreflight("GET");
