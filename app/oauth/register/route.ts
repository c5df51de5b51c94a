import { readJson } from "@/lib/http/body";
import { otherMethods } from "@/lib/api/route";
import { limitClientRegistration } from "@/lib/http/rate-limits";
import { registerClient } from "@/lib/oauth/clients";
import { oauthEndpoint, oauthPreflight } from "@/lib/oauth/http";
import { z } from "zod";

/** RFC 7591 dynamic client registration: open, as MCP expects, and braked per IP. */
export const POST = oauthEndpoint(async ({ request, ip }) => {
  await limitClientRegistration(ip);
  const metadata = await readJson(request, z.unknown());
  return Response.json(await registerClient(metadata), { status: 201 });
});
export const OPTIONS = oauthPreflight("POST");
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
