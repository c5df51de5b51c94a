import { z } from "zod";
import { getConfig } from "../config";
import { parseInput } from "../http/body";
import { HttpError } from "../http/errors";
import { text } from "../http/text";
import { getAgentSession, putAgentSession, putSessionSchema, sessionNameSchema } from "../workspace/agent-sessions";
import { artifactNameSchema, getArtifact, isTextualMediaType, parseContentType, putArtifact } from "../workspace/artifacts";
import { listEvents, listEventsQuerySchema, publishEvent, publishEventSchema } from "../workspace/events";
import { AUDIT_PAGE_MAX } from "../audit/trail";
import { auditQuerySchema, readWorkspaceAudit } from "../workspace/audit-trail";
import { redactionReportSchema } from "./knowledge-tools";
import * as api from "../api/schemas";
import { defineTool, inlined, readOnly, writes } from "./tool-kit";

/** Tools over agent sessions, events, artifacts and the audit trail. */

// Session state and event payloads as plain JSON values in the tool schemas (z.json() would
// publish a recursive definition).
const sessionSchema = inlined(api.agentSessionSchema, { state: z.unknown() });
const eventSchema = inlined(api.eventSchema, { payload: z.unknown() });
const artifactMetaSchema = inlined(api.artifactMetaSchema);

/**
 * The most of an artifact one tool call returns. Base64 adds a third and the whole answer is
 * one JSON document in memory, so large artifacts are left to the REST download.
 */
export const MCP_ARTIFACT_READ_MAX_BYTES = 1024 * 1024;

function utf8OrNull(bytes: Buffer): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const getSession = defineTool({
  name: "get_session",
  title: "Read an agent session",
  description: "An agent session's JSON state and its `rev`; pass that rev to update_session. A session never written is not found (write it with rev 0).",
  annotations: readOnly,
  inputSchema: z.object({ name: sessionNameSchema }),
  outputSchema: z.object({ session: sessionSchema }),
  run: async (access, { name }) => ({ session: await getAgentSession(access, name) }),
});

const updateSession = defineTool({
  name: "update_session",
  title: "Write an agent session",
  description:
    "Replaces an agent session's state. `rev` must be the rev you read (0 to create the session); if someone wrote in between, nothing is written and the error names the current rev. Secrets in the state are redacted.",
  annotations: writes,
  inputSchema: z.object({ name: sessionNameSchema, ...putSessionSchema.shape }),
  outputSchema: z.object({ session: sessionSchema, redaction: redactionReportSchema }),
  run: (access, { name, ...input }) => putAgentSession(access, name, parseInput(putSessionSchema, input)),
});

const listEventsTool = defineTool({
  name: "list_events",
  title: "List events",
  description: "Events after the cursor `after` (a seq; 0 for the oldest), oldest first. Pass `nextCursor` back as `after` to continue.",
  annotations: readOnly,
  inputSchema: z.object({
    after: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(500).default(100),
  }),
  outputSchema: z.object({ items: z.array(eventSchema), nextCursor: z.number().int() }),
  run: (access, query) => listEvents(access, parseInput(listEventsQuerySchema, query)),
});

const publishEventTool = defineTool({
  name: "publish_event",
  title: "Publish an event",
  description: "Appends an event (a type such as `build.finished` and a JSON payload) to the workspace's event stream. Secrets in the payload are redacted.",
  annotations: writes,
  inputSchema: publishEventSchema,
  outputSchema: z.object({ event: eventSchema, redaction: redactionReportSchema }),
  run: (access, input) => publishEvent(access, input),
});

const getArtifactTool = defineTool({
  name: "get_artifact",
  title: "Read an artifact",
  description: `An artifact's content: as text when its media type is textual and it is valid UTF-8, else as base64. Artifacts over ${MCP_ARTIFACT_READ_MAX_BYTES} bytes are refused here (download them over the REST API).`,
  annotations: readOnly,
  inputSchema: z.object({ name: artifactNameSchema }),
  outputSchema: artifactMetaSchema.extend({ encoding: z.enum(["utf8", "base64"]), content: z.string() }),
  run: async (access, { name }) => {
    const { bytes, ...meta } = await getArtifact(access, name);
    if (bytes.length > MCP_ARTIFACT_READ_MAX_BYTES) {
      throw new HttpError(413, "artifact_too_large", `The artifact is ${bytes.length} bytes; MCP returns at most ${MCP_ARTIFACT_READ_MAX_BYTES}. Download it over the REST API.`);
    }
    const text = isTextualMediaType(meta.contentType) ? utf8OrNull(bytes) : null;
    return text === null ? { ...meta, encoding: "base64" as const, content: bytes.toString("base64") } : { ...meta, encoding: "utf8" as const, content: text };
  },
});

// A tool call is one JSON body (ENCLAVE_BODY_LIMIT_BYTES); the artifact cap is checked on the bytes.
const MAX_TOOL_TEXT = 8 * 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const putArtifactTool = defineTool({
  name: "put_artifact",
  title: "Store an artifact",
  description:
    "Creates or replaces a named artifact. Give `content` (text, stored as UTF-8) or `base64` (bytes), and its `mediaType`. Textual artifacts are redacted like all text.",
  annotations: { ...writes, idempotentHint: true },
  inputSchema: z.object({
    name: artifactNameSchema,
    content: text(MAX_TOOL_TEXT).optional().describe("The artifact as text"),
    base64: text(MAX_TOOL_TEXT).optional().describe("The artifact's bytes, base64-encoded"),
    mediaType: text(200).default("text/plain; charset=utf-8"),
  }),
  outputSchema: z.object({ artifact: artifactMetaSchema, redaction: redactionReportSchema }),
  run: async (access, { name, content, base64, mediaType }) => {
    if ((content === undefined) === (base64 === undefined)) throw new HttpError(400, "invalid_request", "Give either `content` or `base64`, not both.");
    if (base64 !== undefined && !BASE64.test(base64)) throw new HttpError(400, "invalid_request", "`base64` is not valid base64.");
    const bytes = content !== undefined ? Buffer.from(content, "utf8") : Buffer.from(base64 ?? "", "base64");
    const limit = getConfig().ENCLAVE_ARTIFACT_MAX_BYTES;
    if (bytes.length > limit) throw new HttpError(413, "payload_too_large", `The artifact is larger than ${limit} bytes.`);
    return putArtifact(access, name, parseContentType(mediaType), bytes);
  },
});

// The REST query's filters, as JSON: times may be ms or ISO text. auditQuerySchema then applies
// the same rules as on REST, so both surfaces refuse the same input with the same words.
const instantInput = z.union([text(40), z.number().int().min(0)]);
const auditTailInput = z.object({
  actor: text(140).optional().describe("Only this actor: user:<id>, token:<id>, oauth:<grant id>, system:<id>, or a type alone"),
  action: text(80).optional().describe("An action (knowledge.delete) or a prefix (knowledge.*)"),
  from: instantInput.optional().describe("From this time (inclusive): ISO 8601 date or date-time, or ms"),
  to: instantInput.optional().describe("Up to this time (inclusive; a date runs to its end, UTC)"),
  after: z.number().int().min(0).optional().describe("Rows after this seq (pass prevCursor for newer rows)"),
  before: z.number().int().min(0).optional().describe("Rows before this seq (pass nextCursor for older rows)"),
  limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
});

/** Tool arguments as a query string carries them, so auditQuerySchema reads both surfaces alike. */
const asQueryText = (input: Record<string, string | number | undefined>) =>
  Object.fromEntries(Object.entries(input).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));

const auditTail = defineTool({
  name: "audit_tail",
  title: "Audit trail",
  description:
    "This workspace's audit trail, newest first: every write, tool call and refused access, with who (and their name), what, when and the request id. Filter by actor, action or time; page with nextCursor (as `before`) and prevCursor (as `after`).",
  annotations: readOnly,
  inputSchema: auditTailInput,
  outputSchema: z.object({
    items: z.array(inlined(api.auditRowSchema, { details: z.unknown() })),
    nextCursor: z.number().int().nullable(),
    prevCursor: z.number().int().nullable(),
  }),
  run: (access, input) => readWorkspaceAudit(access, parseInput(auditQuerySchema, asQueryText(input))),
});

export const workspaceTools = [getSession, updateSession, listEventsTool, publishEventTool, getArtifactTool, putArtifactTool, auditTail];
