import type { z } from "zod";
import type { startTotpSetup } from "../auth/mfa";
import type { redactionSettingsSchema } from "../workspace/redaction";
import type * as schemas from "./schemas";

/**
 * What the API answers, as types for the portal's components: derived from the schemas the
 * server is held to (lib/api/route.ts, ApiResult), so a component cannot expect a field the
 * server does not send. Type-only: nothing here reaches the browser bundle.
 */
export type ApiErrorBody = z.output<typeof schemas.errorSchema>;
export type RedactionReport = z.output<typeof schemas.redactionReportSchema>;
export type KnowledgeEntry = z.output<typeof schemas.knowledgeEntrySchema>;
export type KnowledgeWriteResult = z.output<typeof schemas.knowledgeWriteResultSchema>;
export type WorkspaceEvent = z.output<typeof schemas.eventSchema>;
export type EventWriteResult = z.output<typeof schemas.eventWriteResultSchema>;
export type IssuedToken = z.output<typeof schemas.issuedTokenSchema>;
export type RedactionSettings = z.output<typeof redactionSettingsSchema>;
export type TotpSetup = Awaited<ReturnType<typeof startTotpSetup>>;
