import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";
import { runJobForOperator } from "@/lib/operator/jobs";

export const POST = operatorRoute(operatorEndpoints.operatorRunJob, async ({ params, note }) => {
  const result = await runJobForOperator(params.job ?? "");
  note({ outcome: result.outcome });
  return result;
});

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
