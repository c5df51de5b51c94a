import { createHash } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { artifacts } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { assertStorageFor } from "../billing/limits";
import { withWorkspace } from "../db/store";
import { HttpError, notFound } from "../http/errors";
import { mergeReports, redactJson, redactText, type RedactionPolicy, type RedactionReport, emptyReport } from "./redaction";
import { auditWrite } from "./audit-records";
import { redactionPolicy } from "./redaction-settings";
import { urlName } from "../http/text";

/**
 * Artifacts: named blobs stored inside the workspace's encrypted database (so never plaintext
 * on disk), size-capped by ENCLAVE_ARTIFACT_MAX_BYTES. Text artifacts (by content type) pass
 * redaction like everything else; binary ones are stored as sent. `sha256` is of the stored bytes.
 */
export const artifactNameSchema = urlName(200);
const contentTypeSchema = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9_-]+=("?)[a-z0-9_.-]+\2)*$/i;

export type ArtifactMeta = { name: string; contentType: string; size: number; sha256: string; createdAt: number; updatedAt: number; updatedBy: string };

/**
 * Text we can scan (by media type: text/*, JSON, XML, YAML, JavaScript) and the encoding to write it back in.
 * Bytes that are not valid UTF-8 (a Latin-1 log, say) are read as Latin-1, which maps every
 * byte to one character and back, so the unredacted parts round-trip byte for byte.
 */
/** Whether a media type (parameters allowed) is text: the one rule for redaction and for reading back as text. */
export function isTextualMediaType(contentType: string): boolean {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type.startsWith("text/") || /^application\/(json|xml|yaml|x-yaml|javascript|x-ndjson|toml)$/.test(type) || /\+(json|xml)$/.test(type);
}

export function textOf(type: string, bytes: Buffer): { text: string; encoding: "utf8" | "latin1" } | null {
  if (!isTextualMediaType(type)) return null;
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf8" };
  } catch {
    return { text: bytes.toString("latin1"), encoding: "latin1" };
  }
}

const metaOf = (row: ArtifactMeta): ArtifactMeta => ({
  name: row.name,
  contentType: row.contentType,
  size: row.size,
  sha256: row.sha256,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  updatedBy: row.updatedBy,
});

/**
 * A JSON artifact is redacted as JSON first, as session state and event payloads are: inside
 * the raw text a secret in a string is escaped (`\"secret\": \"…\"`) and context rules miss
 * it. Only when something was redacted is the document re-serialised (compactly). The text
 * pass then runs as for any text, so secrets in keys or in invalid JSON are still seen.
 */
export function redactArtifactText(type: string, text: string, policy: RedactionPolicy): { text: string; report: RedactionReport } {
  let jsonReport = emptyReport;
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      const redacted = redactJson(JSON.parse(text) as unknown, policy);
      if (redacted.report.count > 0) {
        text = JSON.stringify(redacted.value);
        jsonReport = redacted.report;
      }
    } catch {
      // Not valid JSON: the text pass below is all it gets.
    }
  }
  const result = redactText(text, policy);
  return { text: result.text, report: mergeReports(jsonReport, result.report) };
}

export function parseArtifactName(name: string): string {
  if (!artifactNameSchema.safeParse(name).success) throw new HttpError(400, "invalid_request", "Artifact names use letters, digits, dot, dash and underscore.");
  return name;
}

export function parseContentType(header: string | null): string {
  const value = (header ?? "application/octet-stream").trim();
  if (value.length > 200 || !contentTypeSchema.test(value)) throw new HttpError(400, "invalid_content_type", "Send a valid Content-Type.");
  return value;
}

export async function putArtifact(access: WorkspaceAccess<"artifacts">, name: string, contentType: string, body: Buffer): Promise<{ artifact: ArtifactMeta; redaction: RedactionReport }> {
  parseArtifactName(name);
  await assertStorageFor(access.workspaceId, body.length);
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
      const decoded = textOf(mediaType, body);
      let bytes = body;
      let report = emptyReport;
      const policy = await redactionPolicy(tx);
      if (decoded !== null) {
        const redacted = redactArtifactText(mediaType, decoded.text, policy);
        report = redacted.report;
        if (report.count > 0) bytes = Buffer.from(redacted.text, decoded.encoding);
      }
      const now = Date.now();
      const [existing] = await tx.select({ createdAt: artifacts.createdAt }).from(artifacts).where(eq(artifacts.name, name));
      const row = {
        name,
        contentType,
        bytes,
        size: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        updatedBy: access.label,
      };
      await tx.insert(artifacts).values(row).onConflictDoUpdate({ target: artifacts.name, set: row });
      const details = { contentType, size: row.size, sha256: row.sha256, replaced: existing !== undefined };
      await auditWrite(tx, access, { action: "artifact.put", target: `artifact:${name}`, details }, { policy, report });
      return { artifact: metaOf(row), redaction: report };
    }),
  );
}

export async function getArtifact(access: WorkspaceAccess<"search">, name: string): Promise<ArtifactMeta & { bytes: Buffer }> {
  const row = artifactNameSchema.safeParse(name).success
    ? await withWorkspace(access.workspaceId, async (db) => (await db.db.select().from(artifacts).where(eq(artifacts.name, name)))[0])
    : undefined;
  if (!row) throw notFound("No such artifact.");
  return { ...row, bytes: Buffer.from(row.bytes) };
}

export async function listArtifacts(access: WorkspaceAccess<"search">): Promise<ArtifactMeta[]> {
  return withWorkspace(access.workspaceId, (db) =>
    db.db
      .select({ name: artifacts.name, contentType: artifacts.contentType, size: artifacts.size, sha256: artifacts.sha256, createdAt: artifacts.createdAt, updatedAt: artifacts.updatedAt, updatedBy: artifacts.updatedBy })
      .from(artifacts)
      .orderBy(asc(artifacts.name))
      .limit(1000),
  );
}

export async function deleteArtifact(access: WorkspaceAccess<"artifacts">, name: string): Promise<void> {
  parseArtifactName(name);
  await withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      const [existing] = await tx.select({ size: artifacts.size }).from(artifacts).where(eq(artifacts.name, name));
      if (!existing) throw notFound("No such artifact.");
      await tx.delete(artifacts).where(eq(artifacts.name, name));
      await auditWrite(tx, access, { action: "artifact.delete", target: `artifact:${name}`, details: { size: existing.size } }, { policy: await redactionPolicy(tx), report: emptyReport });
    }),
  );
}

/**
 * The bytes as a download. Always an attachment with a locked-down CSP: an artifact is
 * whatever an agent uploaded, and served inline from our origin an HTML or SVG one would run
 * script as the portal.
 */
export function artifactResponse(artifact: ArtifactMeta & { bytes: Buffer }): Response {
  return new Response(new Uint8Array(artifact.bytes), {
    headers: {
      "content-type": artifact.contentType,
      "content-length": String(artifact.size),
      "content-disposition": `attachment; filename="${artifact.name}"`,
      "content-security-policy": "default-src 'none'; sandbox",
      "x-content-type-options": "nosniff",
      etag: `"${artifact.sha256}"`,
      "cache-control": "no-store",
    },
  });
}
