import type { WorkspaceAccess } from "../access/authorize";
import { buildEvidenceBundle, type EvidenceBundle } from "../audit/evidence";
import type { EvidencePeriod } from "../audit/evidence-period";

/** A workspace's signed evidence bundle (lib/audit/evidence.ts), for whoever holds its `audit` scope. */
export function workspaceEvidenceBundle(access: WorkspaceAccess<"audit">, period: EvidencePeriod): Promise<EvidenceBundle> {
  return buildEvidenceBundle({ kind: "workspace", workspaceId: access.workspaceId, actor: access.actor }, period);
}
