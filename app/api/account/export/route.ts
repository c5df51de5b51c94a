import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { assertSameOrigin } from "@/lib/http/origin";
import { exportAccount, exportResponse } from "@/lib/lifecycle/export";

/**
 * A GET that answers with everything the person has, so it is held to more than a GET: a
 * browser that says the request came from another site (Sec-Fetch-Site cross-site or
 * same-site, or a foreign Origin) is refused before anything is read, even though the SameSite
 * cookie would not be sent on most such requests and the attachment could not be read there.
 */
export const GET = portalRoute(portalEndpoints.exportAccount, async ({ request, session, ip }) => {
  assertSameOrigin(request);
  return exportResponse(await exportAccount(session, ip));
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
