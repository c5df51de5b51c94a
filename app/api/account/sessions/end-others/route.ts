import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { endOtherAccountSessions } from "@/lib/auth/account-sessions";

export const POST = portalRoute(portalEndpoints.endOtherAccountSessions, async ({ session }) => Response.json(await endOtherAccountSessions(session)));

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
