import { oauthEndpoints } from "@/lib/api/oauth-endpoints";
import { oauthPreflight, oauthRoute } from "@/lib/api/oauth-route";
import { otherMethods } from "@/lib/api/route";
import { registerClient } from "@/lib/oauth/clients";

/** RFC 7591 dynamic client registration: open, as MCP expects, and braked per IP. */
export const POST = oauthRoute(oauthEndpoints.registerClient, async ({ body }) => Response.json(await registerClient(body), { status: 201 }));
export const OPTIONS = oauthPreflight("POST");
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
