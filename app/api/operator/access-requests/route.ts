import { listAccessRequests } from "@/lib/access/access-requests";
import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";

export const GET = operatorRoute(operatorEndpoints.operatorListAccessRequests, async ({ query, note }) => {
  const items = await listAccessRequests(query.status);
  note({ status: query.status, count: items.length });
  return { items };
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
