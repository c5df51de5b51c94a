import { authorize } from "@/lib/access/authorize";
import { portalEndpoints } from "@/lib/api/portal-endpoints";
import { otherMethods, portalRoute } from "@/lib/api/route";
import { evidenceResponse } from "@/lib/audit/evidence";
import { limitEvidenceExport } from "@/lib/http/rate-limits";
import { workspaceEvidenceBundle } from "@/lib/workspace/audit-evidence";

// Scope `audit` (owners and admins): the bundle holds the rows they can already read on the Audit page.
export const GET = portalRoute(portalEndpoints.auditEvidence, async ({ session, params, query }) => {
  await limitEvidenceExport(session.user.id);
  const access = await authorize({ kind: "user", userId: session.user.id }, params.workspaceId ?? "", "audit");
  return evidenceResponse(await workspaceEvidenceBundle(access, query));
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
