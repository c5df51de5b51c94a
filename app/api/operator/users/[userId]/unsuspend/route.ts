import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";
import { setSuspension } from "@/lib/operator/suspension";

export const POST = operatorRoute(operatorEndpoints.operatorUnsuspendUser, ({ params, actor }) => setSuspension(params.userId ?? "", false, actor));

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
