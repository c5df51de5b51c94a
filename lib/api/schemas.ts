import { z } from "zod";
import { allScopes, roleSchema } from "../access/scopes";

/**
 * Response shapes of the REST API, for the OpenAPI document. Inputs are validated with the
 * schemas the lib modules export; these describe what comes back.
 */
export const errorSchema = z
  .object({
    error: z.string().describe("Machine-readable code, e.g. `insufficient_scope`"),
    message: z.string().describe("A sentence for people"),
    requestId: z.string(),
    fieldErrors: z.record(z.string(), z.array(z.string())).optional(),
  })
  .meta({ id: "Error" });

export const redactionReportSchema = z
  .object({ count: z.number().int(), kinds: z.array(z.string()) })
  .describe("How many secrets were replaced by [REDACTED:<kind>] before storage, and of which kinds")
  .meta({ id: "RedactionReport" });

export const knowledgeEntrySchema = z
  .object({
    id: z.string(),
    title: z.string(),
    body: z.string(),
    tags: z.array(z.string()),
    source: z.string().nullable(),
    author: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    version: z.number().int(),
  })
  .meta({ id: "KnowledgeEntry" });

export const knowledgeWriteResultSchema = z.object({ entry: knowledgeEntrySchema, redaction: redactionReportSchema });
export const knowledgePageSchema = z.object({ items: z.array(knowledgeEntrySchema), nextCursor: z.string().nullable() });

export const searchResultSchema = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      tags: z.array(z.string()),
      updatedAt: z.number().int(),
      score: z.number().describe("bm25: lower is better"),
      snippet: z.array(z.object({ text: z.string(), match: z.boolean() })),
    }),
  ),
});

export const agentSessionSchema = z
  .object({
    name: z.string(),
    channel: z.string().nullable(),
    state: z.json(),
    rev: z.number().int(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    updatedBy: z.string(),
  })
  .meta({ id: "AgentSession" });
export const sessionWriteResultSchema = z.object({ session: agentSessionSchema, redaction: redactionReportSchema });
export const sessionListSchema = z.object({
  items: z.array(z.object({ name: z.string(), channel: z.string().nullable(), rev: z.number().int(), updatedAt: z.number().int(), updatedBy: z.string() })),
});

export const eventSchema = z
  .object({ seq: z.number().int(), type: z.string(), payload: z.json(), actor: z.string(), at: z.number().int() })
  .meta({ id: "Event" });
export const eventWriteResultSchema = z.object({ event: eventSchema, redaction: redactionReportSchema });
export const eventPageSchema = z.object({ items: z.array(eventSchema), nextCursor: z.number().int() });

export const artifactMetaSchema = z
  .object({
    name: z.string(),
    contentType: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    updatedBy: z.string(),
  })
  .meta({ id: "Artifact" });
export const artifactWriteResultSchema = z.object({ artifact: artifactMetaSchema, redaction: redactionReportSchema });
export const artifactListSchema = z.object({ items: z.array(artifactMetaSchema) });

export const linkSchema = z.object({ from: z.string(), to: z.string(), relation: z.string(), createdAt: z.number().int(), createdBy: z.string() });
export const neighborsSchema = z.object({
  items: z.array(z.object({ direction: z.enum(["out", "in"]), relation: z.string(), id: z.string(), title: z.string() })),
});

const scopeListSchema = z.array(z.enum(allScopes as [string, ...string[]]));
export const tokenSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(["viewer", "member", "admin"]).nullable(),
    scopes: scopeListSchema,
    createdAt: z.number().int(),
    lastUsedAt: z.number().int().nullable(),
    expiresAt: z.number().int(),
    revokedAt: z.number().int().nullable(),
  })
  .meta({ id: "TeamToken" });
export const tokenListSchema = z.object({ items: z.array(tokenSummarySchema) });
export const issuedTokenSchema = z.object({ token: z.string().describe("Shown this once; store it now"), summary: tokenSummarySchema });

export const memberSchema = z
  .object({ userId: z.string(), email: z.string(), role: roleSchema, createdAt: z.number().int() })
  .meta({ id: "Member" });
export const memberListSchema = z.object({ items: z.array(memberSchema) });
export const emptySchema = z.null().describe("No content (204)");

export const connectedClientSchema = z
  .object({
    grantId: z.string().describe("Revoke with DELETE …/clients/{grantId}"),
    clientId: z.string(),
    clientName: z.string().describe("As the client named itself: untrusted text"),
    userId: z.string().describe("The person who consented"),
    workspaceId: z.string(),
    scopes: scopeListSchema,
    createdAt: z.number().int(),
    lastUsedAt: z.number().int().nullable(),
    redirectUri: z.string(),
  })
  .meta({ id: "ConnectedClient" });
export const connectedClientListSchema = z.object({ items: z.array(connectedClientSchema) });

export const auditRowSchema = z
  .object({
    seq: z.number().int().describe("Position in the workspace's hash chain; cursors are seqs"),
    at: z.number().int(),
    actorType: z.enum(["user", "system", "token", "oauth", "anonymous"]),
    actorId: z.string().nullable(),
    actorName: z.string().nullable().describe("The person's email, the token's or AI client's name (untrusted text); null when nothing by that id is left"),
    action: z.string(),
    target: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable().describe("The request's id, as in the server log and the error body"),
    details: z.json().describe("What the act was, redacted and capped at 2 KB"),
  })
  .meta({ id: "AuditRow" });

export const chainStatusSchema = z
  .object({
    ok: z.boolean(),
    verifiedThrough: z.number().int().describe("Every row up to this seq replayed and matched"),
    headSeq: z.number().int().describe("The newest seq now (rows past verifiedThrough were added since the check)"),
    problem: z.object({ seq: z.number().int(), reason: z.string() }).nullable(),
    checkedAt: z.number().int().describe("When the chain was replayed (at most a minute before, while rows keep coming)"),
  })
  .meta({ id: "AuditChainStatus" });

export const auditPageSchema = z.object({
  items: z.array(auditRowSchema).describe("Newest first"),
  nextCursor: z.number().int().nullable().describe("Pass as `before` for the older rows; null when there are none"),
  prevCursor: z.number().int().nullable().describe("Pass as `after` for the newer rows; null when there are none"),
  chain: chainStatusSchema,
});
