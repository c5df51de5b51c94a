import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { limitApiCall } from "@/lib/http/rate-limits";
import { revokeConnectedClient } from "@/lib/oauth/connected-clients";

// Owned by the signed-in person or not found: another person's grant id answers 404, as an unknown one does.
export const DELETE = portalRoute(portalEndpoints.revokeAccountClient, async ({ session, params, ip }) => {
  await limitApiCall("admin", "revokeAccountClient", ip);
  await revokeConnectedClient({ userId: session.user.id }, params.grantId ?? "", { type: "user", id: session.user.id });
  return new Response(null, { status: 204 });
});

export const { GET, POST, PUT, PATCH } = otherMethods("DELETE");
