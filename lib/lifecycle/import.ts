import { createHash } from "node:crypto";
import yauzl from "yauzl";
import type { z } from "zod";
import type { User } from "@/db/control/schema";
import { agentSessions, artifacts, events, knowledge, links, type WorkspaceSchema } from "@/db/workspace/schema";
import { getConfig } from "../config";
import type { Drizzle } from "../db/database";
import { parseJsonText } from "../http/body";
import { HttpError } from "../http/errors";
import { redactArtifactText, textOf } from "../workspace/artifacts";
import { SESSION_STATE_MAX_BYTES } from "../workspace/agent-sessions";
import { EVENT_PAYLOAD_MAX_BYTES } from "../workspace/events";
import { redactFields } from "../workspace/knowledge";
import { compilePolicy, mergeReports, redactJson, redactText, type RedactionPolicy, type RedactionReport } from "../workspace/redaction";
import { storeRedactionSettings, type RedactionSettings } from "../workspace/redaction-settings";
import { jsonWithin } from "../workspace/text";
import { createWorkspace, type WorkspaceSummary } from "../workspace/workspaces";
import {
  ARTIFACT_DIR,
  artifactLineSchema,
  eventLineSchema,
  knowledgeLineSchema,
  linkLineSchema,
  MANIFEST_FILE,
  manifestSchema,
  sessionLineSchema,
  WORKSPACE_FILES,
  workspaceFolder,
  workspaceMetaSchema,
  workspaceSettingsSchema,
  type Manifest,
  type WorkspaceMeta,
} from "./export-format";

/**
 * `enclave workspace import`: one workspace folder of an export (a workspace export, or one
 * of the workspaces in a person's "Download my data") loaded into a new workspace, here or on
 * another Enclave.
 *
 * The archive is distrusted whole. Before anything is written: it must be a ZIP whose every
 * entry is a file this format has (no `..`, no absolute or unknown path, none twice, none
 * encrypted), and whose manifest lists exactly its other files with their sizes (which yauzl
 * then holds each entry to while inflating, so a declared size is a true bound). While
 * loading: every file read is hashed and must match the manifest; every line is held to the
 * API's own rules (the text rules of every request body, then the API's schemas and size
 * caps: knowledge, session state, event payloads, artifact bytes); ids may not repeat; links
 * must join entries that are there; artifacts must match their index. Redaction applies, as on
 * any write through the API, with the archive's redaction settings but never below `standard`.
 *
 * Everything is written inside the new workspace file's first transaction, under its pending
 * name (createWorkspace's seed): a refusal at any line rolls it back and removes the file, and
 * no control row is made. Ids, versions, revisions, event numbers and timestamps are kept.
 *
 * The source's audit trail is not replayed: its rows record acts on another chain (and maybe
 * another server), and re-signing them here would claim they happened here. The new chain
 * starts with one `workspace.import` row naming the source workspace, its audit head at export
 * and the SHA-256 of its audit.jsonl, so the archive kept beside it is bound to this history.
 */
export class ArchiveRejectedError extends HttpError {
  constructor(message: string) {
    super(422, "invalid_archive", `This is not an archive Enclave can import: ${message}`);
  }
}
const rejected = (message: string) => new ArchiveRejectedError(message);

const LIMITS = {
  entries: 250_000,
  manifestBytes: 64 * 1024 * 1024,
  /** workspace.json and settings.json (custom patterns included) are small. */
  jsonFileBytes: 1024 * 1024,
  /** A line holds one row: a knowledge body or a session state is at most 256 KiB, escaped at most a few times over. */
  lineChars: 4 * 1024 * 1024,
};

const FOLDER_FILES = Object.values(WORKSPACE_FILES).map((name) => name.replace(/\./g, "\\.")).join("|");
/** Every path an export of this format may hold; anything else refuses the archive. */
const ALLOWED_PATH = new RegExp(
  `^(?:manifest\\.json|README\\.txt|account\\.json|tokens\\.json|ai-clients\\.json|audit\\.jsonl|workspaces/ws_[0-9a-f]{32}/(?:${FOLDER_FILES}|artifacts/[A-Za-z0-9._-]{1,220}))$`,
);
const ALLOWED_FOLDER = /^workspaces\/(?:ws_[0-9a-f]{32}\/(?:artifacts\/)?)?$/;

export type ImportProgress = { files: number; bytes: number };
export type ImportFigures = { knowledge: number; sessions: number; events: number; links: number; artifacts: number; bytes: number; redacted: RedactionReport & { targets: string[] } };

/** The archive's entries, checked against its manifest, each read back through its hash. */
class CheckedArchive {
  private readonly progress = { files: 0, bytes: 0 };

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    private readonly manifest: Map<string, Manifest["files"][number]>,
    private readonly onProgress?: (progress: ImportProgress) => void,
  ) {}

  static async open(file: string, onProgress?: (progress: ImportProgress) => void): Promise<CheckedArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { autoClose: false, strictFileNames: true, validateEntrySizes: true });
    } catch (error) {
      throw rejected(`it is not a readable ZIP file (${(error as Error).message})`);
    }
    try {
      const entries = await readDirectory(zip);
      const archive = new CheckedArchive(zip, entries, new Map(), onProgress);
      const manifest = await archive.json(MANIFEST_FILE, manifestSchema, LIMITS.manifestBytes, false);
      for (const listed of manifest.files) {
        if (listed.path === MANIFEST_FILE || archive.manifest.has(listed.path)) throw rejected(`the manifest lists ${listed.path} twice`);
        const entry = entries.get(listed.path);
        if (!entry) throw rejected(`the manifest lists ${listed.path}, which is not in the archive`);
        if (entry.uncompressedSize !== listed.size) throw rejected(`${listed.path} is not the size the manifest says`);
        archive.manifest.set(listed.path, listed);
      }
      for (const path of entries.keys()) {
        if (path !== MANIFEST_FILE && !archive.manifest.has(path)) throw rejected(`${path} is not in the manifest`);
      }
      return archive;
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  close(): void {
    this.zip.close();
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  /** The SHA-256 the manifest gives `path` (an entry read through `chunks` has been held to it). */
  sha256Of(path: string): string | undefined {
    return this.manifest.get(path)?.sha256;
  }

  paths(): string[] {
    return [...this.entries.keys()];
  }

  /** An entry's bytes as they inflate; after the last, its size and SHA-256 must be the manifest's. */
  async *chunks(path: string, checked = true): AsyncGenerator<Buffer> {
    const entry = this.entries.get(path);
    if (!entry) throw rejected(`${path} is missing`);
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of await this.zip.openReadStreamPromise(entry)) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
        this.progress.bytes += bytes.length;
        yield bytes;
      }
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw rejected(`${path} cannot be read (${(error as Error).message})`);
    }
    const listed = this.manifest.get(path);
    if (checked && (!listed || listed.size !== size || listed.sha256 !== hash.digest("hex"))) throw rejected(`${path} does not match its SHA-256 in the manifest`);
    this.progress.files += 1;
    this.onProgress?.({ ...this.progress });
  }

  async bytes(path: string, max: number, checked = true): Promise<Buffer> {
    const size = this.entries.get(path)?.uncompressedSize ?? 0;
    if (size > max) throw rejected(`${path} is larger than ${max} bytes`);
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(path, checked)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  async json<T extends z.ZodType>(path: string, schema: T, max: number, checked = true): Promise<z.infer<T>> {
    const text = decodeUtf8(await this.bytes(path, max, checked), path);
    return parseRecord(text, schema, path);
  }

  /** The lines of a JSON Lines entry, each held to `schema`, with where it is for messages. */
  async *records<T extends z.ZodType>(path: string, schema: T): AsyncGenerator<{ value: z.infer<T>; where: string }> {
    for await (const { text, number } of this.lines(path)) {
      const where = `${path} line ${number}`;
      yield { value: parseRecord(text, schema, where), where };
    }
  }

  private async *lines(path: string): AsyncGenerator<{ text: string; number: number }> {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const decode = (chunk?: Buffer) => {
      try {
        return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      } catch {
        throw rejected(`${path} is not valid UTF-8`);
      }
    };
    let carry = "";
    let number = 0;
    const line = (text: string) => {
      number += 1;
      if (text.length > LIMITS.lineChars) throw rejected(`${path} line ${number} is longer than ${LIMITS.lineChars} characters`);
      return { text, number };
    };
    for await (const chunk of this.chunks(path)) {
      const text = carry + decode(chunk);
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        yield line(text.slice(start, end));
        start = end + 1;
      }
      carry = text.slice(start);
      if (carry.length > LIMITS.lineChars) throw rejected(`${path} line ${number + 1} is longer than ${LIMITS.lineChars} characters`);
    }
    carry += decode();
    if (carry !== "") yield line(carry);
  }
}

async function readDirectory(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  const entries = new Map<string, yauzl.Entry>();
  try {
    for await (const entry of zip.eachEntry()) {
      const path = entry.fileName;
      if (entries.size >= LIMITS.entries) throw rejected(`it has more than ${LIMITS.entries} files`);
      // Folders are implied by their files; an unpacked and re-zipped export has them.
      if (ALLOWED_FOLDER.test(path) && entry.uncompressedSize === 0) continue;
      if (!ALLOWED_PATH.test(path)) throw rejected(`${JSON.stringify(path.slice(0, 120))} is not a file an Enclave export has`);
      if (entries.has(path)) throw rejected(`${path} is in the archive twice`);
      if (entry.isEncrypted() || !entry.canDecodeFileData()) throw rejected(`${path} is encrypted or compressed in a way Enclave does not read`);
      entries.set(path, entry);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // yauzl's own refusals: an absolute path, `..`, a backslash, a malformed directory.
    throw rejected((error as Error).message);
  }
  return entries;
}

function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw rejected(`${path} is not valid UTF-8`);
  }
}

/** One JSON value from the archive, held to the rules of a request body and then to `schema`. */
function parseRecord<T extends z.ZodType>(text: string, schema: T, where: string): z.infer<T> {
  try {
    return parseJsonText(text, schema);
  } catch (error) {
    if (error instanceof HttpError) throw rejected(`${where}: ${error.code === "malformed_json" ? "not valid JSON" : error.message}`);
    throw error;
  }
}

/** An API size rule (jsonWithin's 413), as a refusal of the archive. */
function within(value: unknown, max: number, what: string, where: string): void {
  try {
    jsonWithin(value, max, what);
  } catch (error) {
    if (error instanceof HttpError) throw rejected(`${where}: ${error.message}`);
    throw error;
  }
}

/** The archive's own settings, but never less than `standard`: an import is a write like any other. */
export function importPolicy(settings: RedactionSettings): RedactionPolicy {
  return compilePolicy({ level: settings.level === "strict" ? "strict" : "standard", customPatterns: settings.customPatterns });
}

/** Which workspace folder of the archive to load: the one named, or the only one. */
function chooseFolder(archive: CheckedArchive, workspaceId: string | undefined): string {
  const ids = [...new Set(archive.paths().flatMap((path) => /^workspaces\/(ws_[0-9a-f]{32})\//.exec(path)?.[1] ?? []))].sort();
  if (workspaceId !== undefined) {
    if (!ids.includes(workspaceId)) throw rejected(`it holds no workspace ${workspaceId} (it holds: ${ids.join(", ") || "none"})`);
    return workspaceFolder(workspaceId);
  }
  if (ids.length !== 1) throw rejected(ids.length === 0 ? "it holds no workspace" : `it holds ${ids.length} workspaces (${ids.join(", ")}): name one with --workspace`);
  return workspaceFolder(ids[0]!);
}

/** Redaction reports, summed, with the first targets named (for the audit row). */
class RedactionTally {
  private report: RedactionReport = { count: 0, kinds: [] };
  private readonly targets: string[] = [];

  note(target: string, ...reports: RedactionReport[]): void {
    const merged = mergeReports(...reports);
    if (merged.count === 0) return;
    this.report = mergeReports(this.report, merged);
    if (this.targets.length < 100) this.targets.push(target);
  }

  get summary() {
    return { ...this.report, targets: this.targets };
  }
}

const BATCH = 50;

/** Rows inserted `BATCH` at a time: one statement per row would make a large import a long one. */
class Batcher<R> {
  private rows: R[] = [];
  constructor(private readonly insert: (rows: R[]) => Promise<unknown>) {}
  async add(row: R): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= BATCH) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    await this.insert(rows);
  }
}

type Tx = Drizzle<WorkspaceSchema>;

async function load(tx: Tx, archive: CheckedArchive, folder: string, redactionSettings: RedactionSettings): Promise<ImportFigures> {
  const policy = importPolicy(redactionSettings);
  const tally = new RedactionTally();
  await storeRedactionSettings(tx, redactionSettings);

  const knowledgeIds = new Set<string>();
  const knowledgeRows = new Batcher<typeof knowledge.$inferInsert>((rows) => tx.insert(knowledge).values(rows));
  for await (const { value: row, where } of archive.records(folder + WORKSPACE_FILES.knowledge, knowledgeLineSchema)) {
    if (knowledgeIds.has(row.id)) throw rejected(`${where}: knowledge entry ${row.id} is there twice`);
    knowledgeIds.add(row.id);
    const { values, report } = redactFields(row, policy);
    tally.note(row.id, report);
    await knowledgeRows.add({ ...values, tags: JSON.stringify(values.tags), source: values.source ?? null });
  }
  await knowledgeRows.flush();

  const sessionNames = new Set<string>();
  const sessionRows = new Batcher<typeof agentSessions.$inferInsert>((rows) => tx.insert(agentSessions).values(rows));
  for await (const { value: row, where } of archive.records(folder + WORKSPACE_FILES.sessions, sessionLineSchema)) {
    if (sessionNames.has(row.name)) throw rejected(`${where}: session ${row.name} is there twice`);
    sessionNames.add(row.name);
    within(row.state, SESSION_STATE_MAX_BYTES, "session state", where);
    const state = redactJson(row.state, policy);
    const channel = row.channel === null ? null : redactText(row.channel, policy);
    tally.note(`session:${row.name}`, state.report, channel?.report ?? { count: 0, kinds: [] });
    await sessionRows.add({ ...row, channel: channel?.text ?? null, state: JSON.stringify(state.value) });
  }
  await sessionRows.flush();

  const eventSeqs = new Set<number>();
  const eventRows = new Batcher<typeof events.$inferInsert>((rows) => tx.insert(events).values(rows));
  for await (const { value: row, where } of archive.records(folder + WORKSPACE_FILES.events, eventLineSchema)) {
    if (eventSeqs.has(row.seq)) throw rejected(`${where}: event ${row.seq} is there twice`);
    eventSeqs.add(row.seq);
    within(row.payload, EVENT_PAYLOAD_MAX_BYTES, "event payload", where);
    const payload = redactJson(row.payload, policy);
    tally.note(`event:${row.seq}`, payload.report);
    await eventRows.add({ ...row, payload: JSON.stringify(payload.value) });
  }
  await eventRows.flush();

  const linkKeys = new Set<string>();
  const linkRows = new Batcher<typeof links.$inferInsert>((rows) => tx.insert(links).values(rows));
  for await (const { value: row, where } of archive.records(folder + WORKSPACE_FILES.links, linkLineSchema)) {
    const key = `${row.from} ${row.to} ${row.relation}`;
    if (linkKeys.has(key)) throw rejected(`${where}: that link is there twice`);
    linkKeys.add(key);
    for (const end of [row.from, row.to]) if (!knowledgeIds.has(end)) throw rejected(`${where}: ${end} is not in ${WORKSPACE_FILES.knowledge}`);
    await linkRows.add({ fromId: row.from, toId: row.to, relation: row.relation, createdAt: row.createdAt, createdBy: row.createdBy });
  }
  await linkRows.flush();

  const artifactFigures = await loadArtifacts(tx, archive, folder, policy, tally);

  // Not replayed, but it must be the file the manifest vouches for: its hash goes into the import's audit row.
  for await (const chunk of archive.chunks(folder + WORKSPACE_FILES.audit)) void chunk;

  return {
    knowledge: knowledgeIds.size,
    sessions: sessionNames.size,
    events: eventSeqs.size,
    links: linkKeys.size,
    artifacts: artifactFigures.count,
    bytes: artifactFigures.bytes,
    redacted: tally.summary,
  };
}

async function loadArtifacts(tx: Tx, archive: CheckedArchive, folder: string, policy: RedactionPolicy, tally: RedactionTally) {
  const max = getConfig().ENCLAVE_ARTIFACT_MAX_BYTES;
  const names = new Set<string>();
  const files = new Set<string>();
  let bytesLoaded = 0;
  for await (const { value: row, where } of archive.records(folder + WORKSPACE_FILES.artifacts, artifactLineSchema)) {
    if (names.has(row.name)) throw rejected(`${where}: artifact ${row.name} is there twice`);
    if (files.has(row.file)) throw rejected(`${where}: ${row.file} is listed twice`);
    names.add(row.name);
    files.add(row.file);
    if (row.size > max) throw rejected(`${where}: artifact ${row.name} is larger than this server's ${max}-byte limit`);
    const path = folder + row.file;
    if (!archive.has(path)) throw rejected(`${where}: ${path} is not in the archive`);
    let bytes = await archive.bytes(path, max);
    if (bytes.length !== row.size || createHash("sha256").update(bytes).digest("hex") !== row.sha256) {
      throw rejected(`${where}: ${row.file} is not the artifact artifacts.jsonl describes`);
    }
    const mediaType = row.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    const decoded = textOf(mediaType, bytes);
    if (decoded !== null) {
      const redacted = redactArtifactText(mediaType, decoded.text, policy);
      tally.note(`artifact:${row.name}`, redacted.report);
      if (redacted.report.count > 0) bytes = Buffer.from(redacted.text, decoded.encoding);
    }
    const stored = { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    await tx.insert(artifacts).values({ name: row.name, contentType: row.contentType, bytes, ...stored, createdAt: row.createdAt, updatedAt: row.updatedAt, updatedBy: row.updatedBy });
    bytesLoaded += bytes.length;
  }
  const stray = archive.paths().find((path) => path.startsWith(folder + ARTIFACT_DIR) && !files.has(path.slice(folder.length)));
  if (stray) throw rejected(`${stray} is not listed in ${WORKSPACE_FILES.artifacts}`);
  return { count: names.size, bytes: bytesLoaded };
}

export type ImportOptions = {
  file: string;
  owner: User;
  /** The new workspace's name; the source's when absent. */
  name?: string;
  /** Which workspace of the archive (an account export may hold several). */
  workspaceId?: string;
  onProgress?: (progress: ImportProgress) => void;
};

export async function importWorkspace(options: ImportOptions): Promise<{ workspace: WorkspaceSummary; source: WorkspaceMeta; figures: ImportFigures }> {
  if (options.owner.closureRequestedAt !== null || options.owner.closedAt !== null) {
    throw new HttpError(409, "account_closing", `${options.owner.email} is closing their account: they cannot be given a workspace.`);
  }
  const archive = await CheckedArchive.open(options.file, options.onProgress);
  try {
    const folder = chooseFolder(archive, options.workspaceId);
    for (const file of Object.values(WORKSPACE_FILES)) if (!archive.has(folder + file)) throw rejected(`${folder}${file} is missing`);
    const source = await archive.json(folder + WORKSPACE_FILES.meta, workspaceMetaSchema, LIMITS.jsonFileBytes);
    if (folder !== workspaceFolder(source.id)) throw rejected(`${folder}${WORKSPACE_FILES.meta} names another workspace`);
    const settings = await archive.json(folder + WORKSPACE_FILES.settings, workspaceSettingsSchema, LIMITS.jsonFileBytes);
    let figures: ImportFigures | undefined;
    const workspace = await createWorkspace({ type: "operator", ownerId: options.owner.id }, options.name ?? source.name, {
      action: "workspace.import",
      fill: async (tx) => {
        figures = await load(tx, archive, folder, settings.redaction);
        const auditFile = folder + WORKSPACE_FILES.audit;
        return {
          source: { workspaceId: source.id, name: source.name, exportedAt: source.exportedAt, auditHead: source.audit, auditSha256: archive.sha256Of(auditFile) },
          ...figures,
        };
      },
    });
    return { workspace, source, figures: figures! };
  } finally {
    archive.close();
  }
}
