import { answerAccessRequest } from "@/lib/access/access-requests";
import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";

export const POST = operatorRoute(operatorEndpoints.operatorDeclineAccessRequest, ({ params, actor }) => answerAccessRequest(params.requestId ?? "", false, actor));

export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
