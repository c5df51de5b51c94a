import { authorizationServerMetadata } from "@/lib/oauth/metadata";
import { oauthEndpoint, oauthPreflight } from "@/lib/api/oauth-route";

export const GET = oauthEndpoint(() => Promise.resolve(Response.json(authorizationServerMetadata())));
export const OPTIONS = oauthPreflight("GET");
