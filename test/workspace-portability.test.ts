import fs from "node:fs";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { sessions, workspaces } from "@/db/control/schema";
import { agentSessions, artifacts, events, knowledge } from "@/db/workspace/schema";
import { authorize } from "@/lib/access/authorize";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { createUser } from "@/lib/auth/users";
import { hashSecret } from "@/lib/crypto/secrets";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { ArchiveRejectedError, importWorkspace } from "@/lib/lifecycle/import";
import { putAgentSession } from "@/lib/workspace/agent-sessions";
import { putArtifact } from "@/lib/workspace/artifacts";
import { publishEvent } from "@/lib/workspace/events";
import { createKnowledge, getKnowledge, updateKnowledge } from "@/lib/workspace/knowledge";
import { createLink } from "@/lib/workspace/links";
import { setRedactionSettings } from "@/lib/workspace/redaction-settings";
import { searchKnowledge } from "@/lib/workspace/search";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { ownerAccess, sessionCookieForUser, workspaceWithTokens } from "./api";
import { request } from "./harness";
import { exportToFile, renameInZip, sha256, zipOf } from "./portability";
import { secretSamples } from "./secrets";
import { makeTempDir, useTempStore } from "./store";
import { jsonLinesOf, readZip } from "./zip";

const store = useTempStore();
beforeEach(() => resetRateLimits());

let dir = "";
beforeEach(() => {
  dir = makeTempDir();
  return () => fs.rmSync(dir, { recursive: true, force: true });
});
const file = (name: string) => path.join(dir, name);

/** A workspace with some of everything an export carries, and redaction settings of its own. */
async function sourceWorkspace() {
  const ws = await workspaceWithTokens();
  const write = await ownerAccess(ws, "knowledge");
  const first = await createKnowledge(write, { title: "Research", body: "Soil samples from the north field.", tags: ["lab", "soil"], source: "notebook 3" });
  const second = await createKnowledge(write, { title: "Follow-up", body: "Compare with last year.", tags: [] });
  await createKnowledge(write, { title: "Ünïcødé ✓", body: "tabs\tand\nnew lines, emoji 🌱", tags: ["ü"] });
  await updateKnowledge(write, second.entry.id, { body: "Compare with the last two years." });
  const index = await ownerAccess(ws, "index");
  await createLink(index, { from: first.entry.id, to: second.entry.id, relation: "refs" });
  await createLink(index, { from: second.entry.id, to: first.entry.id, relation: "answers" });
  const sessionsAccess = await ownerAccess(ws, "sessionmutations");
  await putAgentSession(sessionsAccess, "planner", { rev: 0, state: { step: 1 }, channel: "ops" });
  await putAgentSession(sessionsAccess, "planner", { rev: 1, state: { step: 2, nested: { list: [1, "two", null] } } });
  await putAgentSession(sessionsAccess, "reviewer", { rev: 0, state: [] });
  const publish = await ownerAccess(ws, "events:publish");
  for (const n of [1, 2, 3]) await publishEvent(publish, { type: "build.done", payload: { n } });
  const files = await ownerAccess(ws, "artifacts");
  await putArtifact(files, "notes.txt", "text/plain; charset=utf-8", Buffer.from("plain text"));
  await putArtifact(files, "report.json", "application/json", Buffer.from('{"ok":true}'));
  await putArtifact(files, "Photo.JPG", "image/jpeg", Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 250]));
  await putArtifact(files, "photo.jpg", "image/jpeg", Buffer.from([0xff, 0xd8, 0xff, 9]));
  await setRedactionSettings(await ownerAccess(ws, "settings"), { level: "standard", customPatterns: [{ name: "ticket", pattern: "TICKET-[0-9]{6}" }] });
  return { ...ws, firstId: first.entry.id };
}

const newOwner = () => createUser({ email: `new-owner-${Math.random().toString(36).slice(2)}@example.com`, password: "correct horse battery" });

/** The manifest hashes of a workspace folder's content files, by name within the folder (workspace.json and audit.jsonl differ by design). */
async function contentHashes(zipFile: string, workspaceId: string): Promise<Record<string, string>> {
  const files = await readZip(fs.readFileSync(zipFile));
  const manifest = JSON.parse(files.get("manifest.json")!.toString()) as { files: { path: string; sha256: string }[] };
  const folder = `workspaces/${workspaceId}/`;
  return Object.fromEntries(
    manifest.files
      .filter((entry) => entry.path.startsWith(folder) && !["workspace.json", "audit.jsonl"].includes(entry.path.slice(folder.length)))
      .map((entry) => [entry.path.slice(folder.length), entry.sha256]),
  );
}

describe("workspace export → import → export", () => {
  it("gives the same content hashes, keeps ids, versions and times, and starts a new audit chain with a workspace.import row", async () => {
    const src = await sourceWorkspace();
    const progress: number[] = [];
    const first = await exportToFile(src.workspaceId, file("first.zip"), (figures) => progress.push(figures.files));
    expect(first.outcome).toBe("complete");
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(first.figures.files);

    const owner = await newOwner();
    const imported = await importWorkspace({ file: file("first.zip"), owner });
    expect(imported.workspace).toMatchObject({ name: "Team", role: "owner" });
    expect(imported.figures).toMatchObject({ knowledge: 3, sessions: 2, events: 3, links: 2, artifacts: 4, redacted: { count: 0 } });
    await exportToFile(imported.workspace.id, file("second.zip"));

    const before = await contentHashes(file("first.zip"), src.workspaceId);
    const after = await contentHashes(file("second.zip"), imported.workspace.id);
    // Photo.JPG and photo.jpg would be one file on a case-folding file system: the ordinals keep them apart.
    expect(Object.keys(before).sort()).toEqual([
      "agent-sessions.jsonl",
      "artifacts.jsonl",
      "artifacts/000001-Photo.JPG",
      "artifacts/000002-notes.txt",
      "artifacts/000003-photo.jpg",
      "artifacts/000004-report.json",
      "events.jsonl",
      "knowledge.jsonl",
      "links.jsonl",
      "settings.json",
    ]);
    expect(after).toEqual(before);

    // The same rows, read through the API's own functions, and searchable.
    const read = await authorize({ kind: "user", userId: owner.id }, imported.workspace.id, "search");
    const entry = await getKnowledge(read, src.firstId);
    const original = await getKnowledge(await ownerAccess(src, "search"), src.firstId);
    expect(entry).toEqual(original);
    expect((await searchKnowledge(read, { q: "soil", limit: 5 })).map((hit) => hit.id)).toEqual([src.firstId]);

    // A new chain: one row, naming the source and binding its audit file by hash.
    const sourceAudit = (await readZip(fs.readFileSync(file("first.zip")))).get(`workspaces/${src.workspaceId}/audit.jsonl`)!;
    const chain = await withWorkspace(imported.workspace.id, async (db) => ({
      rows: await db.db.select().from(workspaceAuditLog).orderBy(asc(workspaceAuditLog.seq)),
      verdict: await verifyAuditChain(db.db, workspaceAuditLog),
    }));
    expect(chain.verdict.ok).toBe(true);
    // (The second export is the only act since.)
    expect(chain.rows.map((row) => row.action)).toEqual(["workspace.import", "workspace.export"]);
    expect(JSON.parse(chain.rows[0]!.details)).toMatchObject({ source: { workspaceId: src.workspaceId, auditSha256: sha256(sourceAudit) }, knowledge: 3 });
    const control = await getControlDb();
    const [controlRow] = await control.db.select().from(controlAuditLog).where(eq(controlAuditLog.action, "workspace.import"));
    expect(JSON.parse(controlRow!.details)).toMatchObject({ owner: owner.id, source: { workspaceId: src.workspaceId } });
    // The export itself is in the source's chain.
    const exportRows = await withWorkspace(src.workspaceId, (db) => db.db.select().from(workspaceAuditLog).where(eq(workspaceAuditLog.action, "workspace.export")));
    expect(exportRows.map((row) => JSON.parse(row.details) as unknown)).toMatchObject([{ outcome: "complete", via: "workspace_export", files: first.figures.files }]);
  });

  it("--name renames; an account export's workspace folders import one at a time, chosen by id", async () => {
    const src = await sourceWorkspace();
    const other = await createWorkspace({ type: "user", userId: src.owner.id }, "Second");
    const cookie = await sessionCookieForUser(src.owner.id);
    const control = await getControlDb();
    await control.db.update(sessions).set({ reauthAt: Date.now() }).where(eq(sessions.tokenHash, hashSecret(cookie.split("=")[1]!)));
    const download = await request("/api/account/export", { cookie });
    expect(download.status).toBe(200);
    fs.writeFileSync(file("account.zip"), Buffer.from(await download.arrayBuffer()));
    const owner = await newOwner();
    await expect(importWorkspace({ file: file("account.zip"), owner })).rejects.toThrow(/holds 2 workspaces .*name one with --workspace/);
    await expect(importWorkspace({ file: file("account.zip"), owner, workspaceId: "ws_" + "0".repeat(32) })).rejects.toThrow(/holds no workspace ws_0+/);
    const imported = await importWorkspace({ file: file("account.zip"), owner, workspaceId: src.workspaceId, name: "Copied" });
    expect(imported.workspace.name).toBe("Copied");
    expect(imported.figures.knowledge).toBe(3);
    expect((await importWorkspace({ file: file("account.zip"), owner, workspaceId: other.id })).figures.knowledge).toBe(0);
  });

  it("redacts secrets in imported text as a write through the API would, even when the archive's settings say off", async () => {
    const src = await sourceWorkspace();
    await exportToFile(src.workspaceId, file("clean.zip"));
    const files = await readZip(fs.readFileSync(file("clean.zip")));
    const folder = `workspaces/${src.workspaceId}/`;
    const secrets = secretSamples.filter((sample) => ["github_token", "aws_access_key_id", "openai_key"].includes(sample.kind)).slice(0, 3);
    const [a, b, c] = secrets.map((sample) => sample.text) as [string, string, string];
    const edit = (name: string, change: (lines: Record<string, unknown>[]) => Record<string, unknown>[]) =>
      files.set(folder + name, Buffer.from(change(jsonLinesOf(files.get(folder + name))).map((line) => `${JSON.stringify(line)}\n`).join("")));
    edit("knowledge.jsonl", (lines) => lines.map((line, i) => (i === 0 ? { ...line, body: a, tags: ["fine", b] } : line)));
    edit("agent-sessions.jsonl", (lines) => lines.map((line) => ({ ...line, state: { note: c } })));
    edit("events.jsonl", (lines) => lines.map((line) => ({ ...line, payload: { log: a } })));
    files.set(`${folder}settings.json`, Buffer.from(JSON.stringify({ redaction: { level: "off", customPatterns: [{ name: "ticket", pattern: "TICKET-[0-9]{6}" }] } })));
    // A text artifact carrying a secret and a team-specific ticket number, with an index that matches its bytes.
    const index = jsonLinesOf<{ name: string; file: string; size: number; sha256: string }>(files.get(`${folder}artifacts.jsonl`));
    const notes = index.find((entry) => entry.name === "notes.txt")!;
    const leaked = Buffer.from(`deploy log\n${b}\nsee TICKET-123456\n`);
    files.set(folder + notes.file, leaked);
    files.set(`${folder}artifacts.jsonl`, Buffer.from(index.map((entry) => `${JSON.stringify(entry === notes ? { ...entry, size: leaked.length, sha256: sha256(leaked) } : entry)}\n`).join("")));
    await zipOf(file("leaky.zip"), [...files.entries()]);

    const imported = await importWorkspace({ file: file("leaky.zip"), owner: await newOwner() });
    expect(imported.figures.redacted.count).toBeGreaterThanOrEqual(6);
    expect(imported.figures.redacted.kinds).toContain("custom:ticket");
    const stored = await withWorkspace(imported.workspace.id, async (db) =>
      JSON.stringify({
        knowledge: await db.db.select().from(knowledge),
        sessions: await db.db.select().from(agentSessions),
        events: await db.db.select().from(events),
        artifacts: (await db.db.select().from(artifacts)).map((row) => ({ ...row, bytes: Buffer.from(row.bytes).toString("latin1") })),
        audit: await db.db.select().from(workspaceAuditLog),
      }),
    );
    for (const sample of secrets) expect(stored, sample.kind).not.toContain(sample.secret);
    expect(stored).not.toContain("TICKET-123456");
    expect(stored).toContain("[REDACTED:custom:ticket]");
    // The stored artifact's size and hash are of the redacted bytes.
    const notesRow = await withWorkspace(imported.workspace.id, async (db) => (await db.db.select().from(artifacts).where(eq(artifacts.name, "notes.txt")))[0]!);
    expect(notesRow.sha256).toBe(sha256(Buffer.from(notesRow.bytes)));
  });
});

describe("a malformed or hostile archive", () => {
  /** The workspace's files, ready to be changed and zipped again. */
  async function validFiles() {
    const src = await sourceWorkspace();
    await exportToFile(src.workspaceId, file("valid.zip"));
    return { src, folder: `workspaces/${src.workspaceId}/`, files: await readZip(fs.readFileSync(file("valid.zip"))) };
  }

  /** Refused with `message`, and nothing left behind: no workspace row, no file or folder. */
  async function expectRefused(zipFile: string, message: RegExp, options: { workspaceId?: string } = {}) {
    const control = await getControlDb();
    const rowsBefore = await control.db.$count(workspaces);
    const folderBefore = fs.readdirSync(path.join(store.dataDir(), "workspaces")).sort();
    const owner = await newOwner();
    const attempt = importWorkspace({ file: zipFile, owner, ...options });
    await expect(attempt).rejects.toBeInstanceOf(ArchiveRejectedError);
    await expect(attempt).rejects.toThrow(message);
    expect(await control.db.$count(workspaces)).toBe(rowsBefore);
    expect(fs.readdirSync(path.join(store.dataDir(), "workspaces")).sort()).toEqual(folderBefore);
  }

  const line = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);
  const firstLine = (bytes: Buffer) => JSON.parse(bytes.toString().split("\n")[0]!) as Record<string, unknown>;

  it("that is no ZIP at all, or an empty one", async () => {
    fs.writeFileSync(file("text.zip"), "this is not a zip file");
    await expectRefused(file("text.zip"), /not a readable ZIP file/);
    await zipOf(file("empty.zip"), [], "keep");
    await expectRefused(file("empty.zip"), /manifest\.json is missing/);
  });

  it("with a path that climbs out (zip slip), an absolute path, or a file no export has", async () => {
    const { files, folder } = await validFiles();
    await zipOf(file("slip.zip"), [...files.entries(), ["aa/bb/evil.sh", Buffer.from("rm -rf ~")]]);
    renameInZip(file("slip.zip"), "aa/bb/evil.sh", "../../evil.sh");
    await expectRefused(file("slip.zip"), /invalid relative path/);
    await zipOf(file("absolute.zip"), [...files.entries(), ["xetc/cron.d/evil", Buffer.from("* * * * * root sh")]]);
    renameInZip(file("absolute.zip"), "xetc/cron.d/evil", "/etc/cron.d/evil");
    await expectRefused(file("absolute.zip"), /absolute path/);
    await zipOf(file("unknown.zip"), [...files.entries(), [`${folder}run.sh`, Buffer.from("#!/bin/sh")]]);
    await expectRefused(file("unknown.zip"), /run\.sh" is not a file an Enclave export has/);
    await zipOf(file("nested.zip"), [...files.entries(), [`${folder}artifacts/sub/x`, Buffer.from("x")]]);
    await expectRefused(file("nested.zip"), /is not a file an Enclave export has/);
  });

  it("whose manifest does not match it: a changed file, a file it does not list, a file it lists that is not there, an entry twice", async () => {
    const { files, folder } = await validFiles();
    // Same length, still valid JSON: only the hash can tell, and it is checked after the rows went in.
    const changed = new Map(files);
    changed.set(`${folder}knowledge.jsonl`, Buffer.from(files.get(`${folder}knowledge.jsonl`)!.toString().replace("Research", "Rexearch")));
    await zipOf(file("changed.zip"), [...changed.entries()], "keep");
    await expectRefused(file("changed.zip"), /knowledge\.jsonl does not match its SHA-256 in the manifest/);
    await zipOf(file("unlisted.zip"), [...files.entries(), ["tokens.json", Buffer.from("[]")]], "keep");
    await expectRefused(file("unlisted.zip"), /tokens\.json is not in the manifest/);
    await zipOf(file("missing.zip"), [...files.entries()].filter(([name]) => name !== `${folder}links.jsonl`), "keep");
    await expectRefused(file("missing.zip"), /lists .*links\.jsonl, which is not in the archive/);
    await zipOf(file("twice.zip"), [...files.entries(), [`${folder}events.jsonl`, files.get(`${folder}events.jsonl`)!]], "keep");
    await expectRefused(file("twice.zip"), /events\.jsonl is in the archive twice/);
    await zipOf(file("incomplete.zip"), [...files.entries()].filter(([name]) => name !== `${folder}events.jsonl`));
    await expectRefused(file("incomplete.zip"), /events\.jsonl is missing/);
  });

  it("with lines that are not valid: bad JSON, an unknown field, a repeated id, a link to nothing, bad text, too large, not UTF-8", async () => {
    const { files, folder } = await validFiles();
    const knowledgeFile = files.get(`${folder}knowledge.jsonl`)!;
    const entry = firstLine(knowledgeFile);
    const cases: [string, string, Buffer, RegExp][] = [
      ["bad JSON", "knowledge.jsonl", Buffer.concat([knowledgeFile, Buffer.from("{not json\n")]), /knowledge\.jsonl line 4: not valid JSON/],
      ["an unknown field", "knowledge.jsonl", line({ ...entry, passwordHash: "x" }), /line 1: .*passwordHash/],
      ["a repeated id", "knowledge.jsonl", Buffer.concat([knowledgeFile, line(entry)]), /line 4: knowledge entry kn_[0-9a-f]+ is there twice/],
      ["not a knowledge id", "knowledge.jsonl", line({ ...entry, id: "../../etc" }), /line 1: id: Not a knowledge id/],
      ["a lone surrogate", "knowledge.jsonl", Buffer.from(`${JSON.stringify({ ...entry, title: "x" }).replace('"x"', '"\\ud800"')}\n`), /line 1: .*unpaired surrogate/],
      ["a control character", "knowledge.jsonl", line({ ...entry, body: "bell \u0007" }), /line 1: body: Control characters are not allowed/],
      ["a body over the API's cap", "knowledge.jsonl", line({ ...entry, body: "a".repeat(300 * 1024) }), /line 1: body: Keep it under 262144 characters/],
      ["a line longer than any row", "knowledge.jsonl", line({ ...entry, body: "a".repeat(5 * 1024 * 1024) }), /line 1 is longer than/],
      ["a link to nothing", "links.jsonl", line({ from: entry.id, to: `kn_${"0".repeat(32)}`, relation: "refs", createdAt: 1, createdBy: "user:usr_x" }), /links\.jsonl line 1: kn_0+ is not in knowledge\.jsonl/],
      ["a link to itself", "links.jsonl", line({ from: entry.id, to: entry.id, relation: "refs", createdAt: 1, createdBy: "user:usr_x" }), /cannot link to itself/],
      ["a session state over the API's cap", "agent-sessions.jsonl", line({ name: "big", channel: null, state: { blob: "a".repeat(300 * 1024) }, rev: 1, createdAt: 1, updatedAt: 1, updatedBy: "user:usr_x" }), /session state is larger than 262144 bytes/],
      ["an event with a bad type", "events.jsonl", line({ seq: 1, type: "no spaces allowed", payload: {}, actor: "user:usr_x", at: 1 }), /line 1: type: Event types are/],
      ["a repeated event", "events.jsonl", Buffer.concat([line({ seq: 1, type: "a", payload: {}, actor: "user:usr_x", at: 1 }), line({ seq: 1, type: "b", payload: {}, actor: "user:usr_x", at: 1 })]), /event 1 is there twice/],
      ["an author that is no principal label", "events.jsonl", line({ seq: 1, type: "a", payload: {}, actor: "<script>", at: 1 }), /Not a principal label/],
      ["bytes that are not UTF-8", "events.jsonl", Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), /events\.jsonl is not valid UTF-8/],
      ["nesting deeper than a request may", "events.jsonl", line({ seq: 1, type: "a", payload: JSON.parse("[".repeat(200) + "]".repeat(200)) as unknown, actor: "user:usr_x", at: 1 }), /nested more than 128 levels/],
      ["another format", "workspace.json", line({ ...firstLine(files.get(`${folder}workspace.json`)!), format: "enclave-export/2" }), /workspace\.json: format/],
      ["a settings pattern RE2 cannot run", "settings.json", line({ redaction: { level: "standard", customPatterns: [{ name: "bad", pattern: "(?=x)" }] } }), /Lookahead and lookbehind/],
    ];
    for (const [label, name, bytes, message] of cases) {
      const changed = new Map(files);
      changed.set(folder + name, bytes);
      await zipOf(file("case.zip"), [...changed.entries()]);
      try {
        await expectRefused(file("case.zip"), message);
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    }
  });

  it("whose artifacts do not match their index, are not in it, or are larger than this server takes", async () => {
    const { files, folder } = await validFiles();
    const index = jsonLinesOf<{ name: string; file: string; size: number; sha256: string }>(files.get(`${folder}artifacts.jsonl`));
    const swapped = new Map(files);
    swapped.set(folder + index[0]!.file, Buffer.from("other bytes"));
    await zipOf(file("swapped.zip"), [...swapped.entries()]);
    await expectRefused(file("swapped.zip"), /is not the artifact artifacts\.jsonl describes/);
    await zipOf(file("stray.zip"), [...files.entries(), [`${folder}artifacts/999999-extra.bin`, Buffer.from("x")]]);
    await expectRefused(file("stray.zip"), /artifacts\/999999-extra\.bin is not listed in artifacts\.jsonl/);
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 1);
    const oversized = new Map(files);
    oversized.set(`${folder}artifacts/000099-huge.bin`, huge);
    oversized.set(`${folder}artifacts.jsonl`, Buffer.concat([files.get(`${folder}artifacts.jsonl`)!, line({ ...index[0], name: "huge.bin", file: "artifacts/000099-huge.bin", size: huge.length, sha256: sha256(huge) })]));
    await zipOf(file("huge.zip"), [...oversized.entries()]);
    await expectRefused(file("huge.zip"), /huge\.bin is larger than this server's 4194304-byte limit/);
    const renamed = new Map(files);
    renamed.set(`${folder}artifacts.jsonl`, Buffer.from(index.map((entry, i) => `${JSON.stringify(i === 0 ? { ...entry, name: "../escape" } : entry)}\n`).join("")));
    await zipOf(file("badname.zip"), [...renamed.entries()]);
    await expectRefused(file("badname.zip"), /artifacts\.jsonl line 1: name: Use letters, digits, dot, dash and underscore only/);
  });
});
