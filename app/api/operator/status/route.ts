import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";
import { operatorStatus } from "@/lib/operator/status";

export const GET = operatorRoute(operatorEndpoints.operatorStatus, () => operatorStatus());

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
