import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { listAccountSessions } from "@/lib/auth/account-sessions";

export const GET = portalRoute(portalEndpoints.listAccountSessions, async ({ session }) =>
  Response.json({ sessions: await listAccountSessions(session) }, { headers: { "cache-control": "no-store" } }),
);

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
