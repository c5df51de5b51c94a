import { accessRequestAnswerSchema, accessRequestListQuerySchema, accessRequestListSchema } from "../access/access-requests";
import { auditVerifyReportSchema } from "../operator/audit-verify";
import { jobRunResultSchema } from "../operator/jobs";
import { operatorStatusSchema } from "../operator/status";
import { suspensionResultSchema } from "../operator/suspension";
import { operatorWorkspacePageSchema, operatorWorkspacesQuerySchema } from "../operator/workspaces";
import { defineOperatorEndpoint as endpoint } from "./endpoint";

/** The operator API (tag `operator` in the OpenAPI document). lib/router/machine-routes.ts builds the router's routes from these entries. */
const op = "/api/operator";

export const operatorEndpoints = {
  operatorStatus: endpoint({ operationId: "operatorStatus", method: "GET", path: `${op}/status`, summary: "Version, uptime, counts, disk, open handles, the last run of each job, the last backup and drill", action: "operator.status", response: operatorStatusSchema }),
  operatorWorkspaces: endpoint({ operationId: "operatorWorkspaces", method: "GET", path: `${op}/workspaces`, summary: "Every workspace: id, name, owners, size on disk, deleted and offline flags (never contents); paged by id", action: "operator.workspaces_list", query: operatorWorkspacesQuerySchema, response: operatorWorkspacePageSchema }),
  operatorRunJob: endpoint({ operationId: "operatorRunJob", method: "POST", path: `${op}/jobs/{job}/run`, summary: "Run one job now, under its lease", action: "operator.job_run", response: jobRunResultSchema }),
  operatorSuspendUser: endpoint({ operationId: "operatorSuspendUser", method: "POST", path: `${op}/users/{userId}/suspend`, summary: "Suspend a person: their sessions, the team tokens they issued and their AI clients stop on the next request (idempotent)", action: "operator.user_suspend", auditsItself: true, response: suspensionResultSchema }),
  operatorUnsuspendUser: endpoint({ operationId: "operatorUnsuspendUser", method: "POST", path: `${op}/users/{userId}/unsuspend`, summary: "Lift a suspension: everything the person held works again, no new tokens needed (idempotent)", action: "operator.user_unsuspend", auditsItself: true, response: suspensionResultSchema }),
  operatorListAccessRequests: endpoint({ operationId: "operatorListAccessRequests", method: "GET", path: `${op}/access-requests`, summary: "Requests to join from the public form, oldest first (`status`: pending by default, approved, declined)", action: "operator.access_requests_list", query: accessRequestListQuerySchema, response: accessRequestListSchema }),
  operatorApproveAccessRequest: endpoint({ operationId: "operatorApproveAccessRequest", method: "POST", path: `${op}/access-requests/{requestId}/approve`, summary: "Approve a pending request: a 7-day sign-up invitation, mailed, or its link returned once", action: "access_request.approved", auditsItself: true, response: accessRequestAnswerSchema }),
  operatorDeclineAccessRequest: endpoint({ operationId: "operatorDeclineAccessRequest", method: "POST", path: `${op}/access-requests/{requestId}/decline`, summary: "Decline a pending request (nothing is sent)", action: "access_request.declined", auditsItself: true, response: accessRequestAnswerSchema }),
  operatorVerifyAudit: endpoint({ operationId: "operatorVerifyAudit", method: "GET", path: `${op}/audit/verify`, summary: "Verify control.db's audit chain and every workspace's; an unreadable file is reported and the rest go on", action: "operator.audit_verify", response: auditVerifyReportSchema }),
};

export const operatorEndpointList = Object.values(operatorEndpoints);
