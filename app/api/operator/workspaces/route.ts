import { operatorEndpoints } from "@/lib/api/operator-endpoints";
import { operatorRoute } from "@/lib/api/operator-route";
import { otherMethods } from "@/lib/api/route";
import { listWorkspacesForOperator } from "@/lib/operator/workspaces";

export const GET = operatorRoute(operatorEndpoints.operatorWorkspaces, async ({ query, note }) => {
  const page = await listWorkspacesForOperator(query);
  note({ listed: page.items.length });
  return page;
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
