import { invitationListSchema } from "../access/invitations";
import { addMemberSchema, changeRoleSchema, memberInvitedSchema } from "../access/members";
import { issueTokenSchema } from "../access/tokens";
import { putSessionSchema } from "../workspace/agent-sessions";
import { auditQuerySchema } from "../workspace/audit-trail";
import { listEventsQuerySchema, publishEventSchema } from "../workspace/events";
import { knowledgeInputSchema, knowledgePatchSchema, listQuerySchema } from "../workspace/knowledge";
import { createLinkSchema } from "../workspace/links";
import { redactionSettingsSchema } from "../workspace/redaction";
import { searchQuerySchema } from "../workspace/search";
import { defineEndpoint as endpoint } from "./endpoint";
import * as out from "./schemas";

/** Every REST endpoint under /api/v1. lib/router/machine-routes.ts builds the router's routes from these entries. */
const ws = "/workspaces/{workspaceId}";

export const endpoints = {
  listKnowledge: endpoint({ operationId: "listKnowledge", method: "GET", path: `${ws}/knowledge`, summary: "List knowledge, newest first", scope: "search", limit: "sync", query: listQuerySchema, response: out.knowledgePageSchema }),
  createKnowledge: endpoint({ operationId: "createKnowledge", method: "POST", path: `${ws}/knowledge`, summary: "Add a knowledge entry (secrets redacted)", scope: "knowledge", planLimit: "storageMb", limit: "sync", body: knowledgeInputSchema, response: out.knowledgeWriteResultSchema, status: 201 }),
  getKnowledge: endpoint({ operationId: "getKnowledge", method: "GET", path: `${ws}/knowledge/{id}`, summary: "Read one knowledge entry", scope: "search", limit: "sync", response: out.knowledgeEntrySchema }),
  updateKnowledge: endpoint({ operationId: "updateKnowledge", method: "PATCH", path: `${ws}/knowledge/{id}`, summary: "Change a knowledge entry (optionally only if still at `version`)", scope: "knowledge", planLimit: "storageMb", limit: "sync", body: knowledgePatchSchema, response: out.knowledgeWriteResultSchema }),
  deleteKnowledge: endpoint({ operationId: "deleteKnowledge", method: "DELETE", path: `${ws}/knowledge/{id}`, summary: "Delete a knowledge entry and its links", scope: "knowledge", limit: "sync", response: null, status: 204 }),
  neighbors: endpoint({ operationId: "neighbors", method: "GET", path: `${ws}/knowledge/{id}/neighbors`, summary: "Entries linked to or from this one", scope: "graph", limit: "sync", response: out.neighborsSchema }),
  search: endpoint({ operationId: "search", method: "GET", path: `${ws}/search`, summary: "Full-text search (bm25), with snippets", scope: "search", limit: "sync", query: searchQuerySchema, response: out.searchResultSchema }),
  listSessions: endpoint({ operationId: "listSessions", method: "GET", path: `${ws}/sessions`, summary: "List agent sessions", scope: "search", limit: "sync", response: out.sessionListSchema }),
  getSession: endpoint({ operationId: "getSession", method: "GET", path: `${ws}/sessions/{name}`, summary: "Read an agent session's state and rev", scope: "search", limit: "sync", response: out.agentSessionSchema }),
  putSession: endpoint({ operationId: "putSession", method: "PUT", path: `${ws}/sessions/{name}`, summary: "Write an agent session; `rev` must be the one you read (0 to create), else 409 with `currentRev`", scope: "sessionmutations", planLimit: "storageMb", limit: "sync", body: putSessionSchema, response: out.sessionWriteResultSchema }),
  listEvents: endpoint({ operationId: "listEvents", method: "GET", path: `${ws}/events`, summary: "Events after a cursor (seq), oldest first", scope: "events:read", limit: "sync", query: listEventsQuerySchema, response: out.eventPageSchema }),
  publishEvent: endpoint({ operationId: "publishEvent", method: "POST", path: `${ws}/events`, summary: "Append an event", scope: "events:publish", planLimit: "storageMb", limit: "sync", body: publishEventSchema, response: out.eventWriteResultSchema, status: 201 }),
  streamEvents: endpoint({ operationId: "streamEvents", method: "GET", path: `${ws}/events/stream`, summary: "Live events as Server-Sent Events; resume with Last-Event-ID. At most 64 streams per workspace (503 beyond).", scope: "events:read", limit: "sync", response: null, rawResponse: "text/event-stream" }),
  listArtifacts: endpoint({ operationId: "listArtifacts", method: "GET", path: `${ws}/artifacts`, summary: "List artifacts", scope: "search", limit: "sync", response: out.artifactListSchema }),
  getArtifact: endpoint({ operationId: "getArtifact", method: "GET", path: `${ws}/artifacts/{name}`, summary: "Download an artifact's bytes (as an attachment)", scope: "search", limit: "sync", response: null, rawResponse: "application/octet-stream" }),
  putArtifact: endpoint({ operationId: "putArtifact", method: "PUT", path: `${ws}/artifacts/{name}`, summary: "Store an artifact: the body is the bytes, Content-Type is kept; text is redacted", scope: "artifacts", planLimit: "storageMb", limit: "sync", response: out.artifactWriteResultSchema, rawBody: "application/octet-stream" }),
  deleteArtifact: endpoint({ operationId: "deleteArtifact", method: "DELETE", path: `${ws}/artifacts/{name}`, summary: "Delete an artifact", scope: "artifacts", limit: "sync", response: null, status: 204 }),
  createLink: endpoint({ operationId: "createLink", method: "POST", path: `${ws}/links`, summary: "Link two knowledge entries (idempotent)", scope: "index", planLimit: "storageMb", limit: "sync", body: createLinkSchema, response: out.linkSchema, status: 201 }),
  listTokens: endpoint({ operationId: "listTokens", method: "GET", path: `${ws}/tokens`, summary: "List team tokens (never their values)", scope: "tokens", limit: "admin", response: out.tokenListSchema }),
  issueToken: endpoint({ operationId: "issueToken", method: "POST", path: `${ws}/tokens`, summary: "Issue a team token with a role or scopes; the token is in this response only", scope: "tokens", planLimit: "teamTokens", limit: "admin", body: issueTokenSchema, response: out.issuedTokenSchema, status: 201 }),
  revokeToken: endpoint({ operationId: "revokeToken", method: "DELETE", path: `${ws}/tokens/{tokenId}`, summary: "Revoke a team token, at once", scope: "tokens", limit: "admin", response: null, status: 204 }),
  listClients: endpoint({ operationId: "listClients", method: "GET", path: `${ws}/clients`, summary: "List connected AI clients (OAuth grants) in this workspace", scope: "clients", limit: "admin", response: out.connectedClientListSchema }),
  revokeClient: endpoint({ operationId: "revokeClient", method: "DELETE", path: `${ws}/clients/{grantId}`, summary: "Revoke a connected AI client; its tokens stop working on their next request", scope: "clients", limit: "admin", response: null, status: 204 }),
  listMembers: endpoint({ operationId: "listMembers", method: "GET", path: `${ws}/members`, summary: "List members and roles", scope: "members", limit: "admin", response: out.memberListSchema }),
  addMember: endpoint({ operationId: "addMember", method: "POST", path: `${ws}/members`, summary: "Invite an email with a role (owner only by transfer): the same answer whether or not an account uses it; the single-use link is mailed, or returned once to pass on", scope: "members", planLimit: "members", limit: "admin", body: addMemberSchema, response: memberInvitedSchema, status: 201 }),
  listInvitations: endpoint({ operationId: "listInvitations", method: "GET", path: `${ws}/invitations`, summary: "Pending invitations to this workspace", scope: "members", limit: "admin", response: invitationListSchema }),
  revokeInvitation: endpoint({ operationId: "revokeInvitation", method: "DELETE", path: `${ws}/invitations/{invitationId}`, summary: "Withdraw a pending invitation: its link stops working", scope: "members", limit: "admin", response: null, status: 204 }),
  changeMemberRole: endpoint({ operationId: "changeMemberRole", method: "PATCH", path: `${ws}/members/{userId}`, summary: "Change a member's role (the last owner stays owner)", scope: "members", limit: "admin", body: changeRoleSchema, response: out.memberSchema }),
  removeMember: endpoint({ operationId: "removeMember", method: "DELETE", path: `${ws}/members/{userId}`, summary: "Remove a member (not the last owner)", scope: "members", limit: "admin", response: null, status: 204 }),
  getRedactionSettings: endpoint({ operationId: "getRedactionSettings", method: "GET", path: `${ws}/settings/redaction`, summary: "Redaction level and custom patterns", scope: "settings", limit: "admin", response: redactionSettingsSchema }),
  listAudit: endpoint({ operationId: "listAudit", method: "GET", path: `${ws}/audit`, summary: "The workspace audit trail, newest first: filter by actor, action (or `prefix.*`) and time; page with `before`/`after` (seqs); with the chain's status", scope: "audit", limit: "admin", query: auditQuerySchema, response: out.auditPageSchema }),
  putRedactionSettings: endpoint({ operationId: "putRedactionSettings", method: "PUT", path: `${ws}/settings/redaction`, summary: "Set the redaction level (off, standard, strict) and custom patterns (RE2 syntax)", scope: "settings", limit: "admin", body: redactionSettingsSchema, response: redactionSettingsSchema }),
};

export const endpointList = Object.values(endpoints);
