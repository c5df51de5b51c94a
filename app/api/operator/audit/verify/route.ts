import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";
import { verifyEveryAuditChain } from "@/lib/operator/audit-verify";

export const GET = operatorRoute(operatorEndpoints.operatorVerifyAudit, async ({ note }) => {
  const report = await verifyEveryAuditChain();
  note({ ok: report.ok, chains: report.chains.length, broken: report.chains.filter((chain) => !chain.ok).length });
  return report;
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
