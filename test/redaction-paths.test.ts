import fs from "node:fs";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { workspaceAuditLog } from "@/lib/audit/audit";
import { deriveWorkspaceKey } from "@/lib/crypto/keys";
import { Connection } from "@/lib/db/connection";
import { closeStore, getStore, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { decryptedSqlcipherPages, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { nearMisses, secretSamples, type SecretSample } from "./secrets";
import { useTempStore } from "./store";

useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "100000" });
beforeEach(() => resetRateLimits());

type Fx = Awaited<ReturnType<typeof workspaceWithTokens>>;
type Report = { count: number; kinds: string[] };
/** `status` is the success the write must answer with. */
type Written = { response: Response; status: number; target: string; readBack: () => Promise<unknown> };

/** Every string inside a JSON value, joined: what a secret could hide in. */
function stringsIn(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(stringsIn).join("\n");
  if (value && typeof value === "object") return Object.values(value).map(stringsIn).join("\n");
  return "";
}

/** The secret and every 12-character piece of its long runs: a partial leak is a leak. */
function fragments(secret: string): string[] {
  const out = new Set([secret]);
  for (const run of secret.match(/[A-Za-z0-9+/=_-]{12,}/g) ?? []) for (let i = 0; i + 12 <= run.length; i += 12) out.add(run.slice(i, i + 12));
  return [...out];
}

let counter = 0;
const entryPath = (fx: Fx, id: string) => workspacePath(fx.workspaceId, `/knowledge/${encodeURIComponent(id)}`);
const sessionPath = (fx: Fx, name: string) => workspacePath(fx.workspaceId, `/sessions/${encodeURIComponent(name)}`);
const artifactPath = (fx: Fx, name: string) => workspacePath(fx.workspaceId, `/artifacts/${encodeURIComponent(name)}`);
const knowledgeReadBack = (fx: Fx, id: string) => async () => jsonOf(await request(entryPath(fx, id), { token: fx.viewer }));

async function createEntry(fx: Fx, body: Record<string, unknown>): Promise<Written> {
  const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title: "Note", body: "-", ...body } });
  const id = (await jsonOf<{ entry: { id: string } }>(response.clone())).entry.id;
  return { response, status: 201, target: id, readBack: knowledgeReadBack(fx, id) };
}

async function putArtifact(fx: Fx, text: string, contentType: string): Promise<Written> {
  const name = `artifact-${++counter}`;
  const response = await request(artifactPath(fx, name), { token: fx.member, method: "PUT", rawBody: text, headers: { "content-type": contentType } });
  return { response, status: 200, target: `artifact:${name}`, readBack: async () => (await request(artifactPath(fx, name), { token: fx.viewer })).text() };
}

/** Each way text enters a workspace, and which samples fit its field's limits. */
const paths: { name: string; fits?: (s: SecretSample) => boolean; write: (fx: Fx, s: SecretSample) => Promise<Written> }[] = [
  { name: "knowledge POST body", write: (fx, s) => createEntry(fx, { body: s.text }) },
  { name: "knowledge POST title", fits: (s) => s.text.trim().length <= 200, write: (fx, s) => createEntry(fx, { title: s.text }) },
  { name: "knowledge POST tags", fits: (s) => s.text.trim().length <= 64 && !s.text.includes(","), write: (fx, s) => createEntry(fx, { tags: ["ops", s.text] }) },
  { name: "knowledge POST source", fits: (s) => s.text.trim().length <= 500, write: (fx, s) => createEntry(fx, { source: s.text }) },
  {
    name: "knowledge PATCH body",
    write: async (fx, s) => {
      const { target } = await createEntry(fx, { body: "clean" });
      const response = await request(entryPath(fx, target), { token: fx.member, method: "PATCH", body: { body: s.text, version: 1 } });
      return { response, status: 200, target, readBack: knowledgeReadBack(fx, target) };
    },
  },
  {
    name: "session PUT (nested state)",
    write: async (fx, s) => {
      const name = `session-${++counter}`;
      const state = { step: 3, memory: { notes: ["clean", { text: s.text }] } };
      const response = await request(sessionPath(fx, name), { token: fx.member, method: "PUT", body: { rev: 0, state } });
      return { response, status: 200, target: `session:${name}`, readBack: async () => jsonOf(await request(sessionPath(fx, name), { token: fx.viewer })) };
    },
  },
  {
    name: "event POST payload",
    write: async (fx, s) => {
      const events = workspacePath(fx.workspaceId, "/events");
      const response = await request(events, { token: fx.member, body: { type: "log", payload: { lines: [s.text] } } });
      const seq = (await jsonOf<{ event: { seq: number } }>(response.clone())).event.seq;
      const readBack = async () => jsonOf(await request(events, { token: fx.viewer, query: { after: String(seq - 1), limit: "1" } }));
      return { response, status: 201, target: `event:${seq}`, readBack };
    },
  },
  { name: "artifact PUT text/plain", write: (fx, s) => putArtifact(fx, s.text, "text/plain; charset=utf-8") },
  { name: "artifact PUT application/json", write: (fx, s) => putArtifact(fx, JSON.stringify({ note: s.text }, null, 2), "application/json") },
];

/** The write's own audit rows for `target` (one per write), which carry what redaction took out. */
async function writeAudit(workspaceId: string, target: string) {
  return withWorkspace(workspaceId, (db) => db.db.select().from(workspaceAuditLog).where(eq(workspaceAuditLog.target, target)));
}

const redactedIn = (row: { details: string }) => (JSON.parse(row.details) as { redaction?: Report }).redaction;

/** Closes the store, then reads the workspace file three ways: rows (FTS shadow tables too) and FTS terms, decrypted pages, raw bytes. */
async function whatIsOnDisk(workspaceId: string) {
  const store = getStore();
  const file = store.workspaceFile(workspaceId);
  const key = deriveWorkspaceKey(store.masterKey, workspaceId);
  await closeStore();
  const connection = await Connection.open(file, key, { create: false });
  const values: string[] = [];
  let terms: string[];
  try {
    for (const { name } of await connection.all("SELECT name FROM sqlite_master WHERE type = 'table'")) {
      for (const row of await connection.all(`SELECT * FROM "${String(name)}"`)) {
        for (const value of Object.values(row)) values.push(Buffer.isBuffer(value) ? value.toString("utf8") : String(value));
      }
    }
    await connection.exec("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'knowledge_fts', 'row')");
    terms = (await connection.all("SELECT term FROM temp.vocab")).map((row) => String(row.term));
  } finally {
    await connection.close();
  }
  const raw = [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString("latin1"));
  return { rows: values.join("\n"), terms, pages: Buffer.concat(decryptedSqlcipherPages(file, key)).toString("utf8"), raw: raw.join("") };
}

async function expectNoSecretOnDisk(workspaceId: string, secrets: string[]) {
  const disk = await whatIsOnDisk(workspaceId);
  expect(disk.rows).toContain("[REDACTED:");
  expect(disk.pages).toContain("[REDACTED:");
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const piece of fragments(secret)) {
      for (const [where, text] of Object.entries({ rows: disk.rows, pages: disk.pages, raw: disk.raw })) {
        if (text.includes(piece)) leaks.push(`${where}: ${piece}`);
      }
    }
    const lower = secret.toLowerCase();
    for (const term of disk.terms) if (term.length >= 10 && lower.includes(term)) leaks.push(`fts term: ${term}`);
  }
  expect(leaks).toEqual([]);
}

describe("every secret sample, through every way in", () => {
  it.each(paths.map((path) => [path.name, path] as const))("%s: reported, redacted on read-back, audited without the secret, absent from disk", async (_name, path) => {
    const fx = await workspaceWithTokens();
    const samples = secretSamples.filter((s) => path.fits?.(s) ?? true);
    expect(samples.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const sample of samples) {
      const label = `${sample.kind} (${sample.text.slice(0, 30).replaceAll("\n", " ")}…)`;
      const { response, status, target, readBack } = await path.write(fx, sample);
      if (response.status !== status) {
        problems.push(`${label}: status ${response.status} ${await response.text()}`);
        continue;
      }
      const written = await jsonOf<{ redaction: Report }>(response);
      if (!written.redaction.kinds.includes(sample.kind)) problems.push(`${label}: report ${JSON.stringify(written.redaction)}`);
      if (fragments(sample.secret).some((piece) => stringsIn(written).includes(piece))) problems.push(`${label}: secret in the write response`);
      const stored = stringsIn(await readBack());
      if (!stored.includes(`[REDACTED:${sample.kind}]`)) problems.push(`${label}: read-back has no [REDACTED:${sample.kind}]`);
      if (fragments(sample.secret).some((piece) => stored.includes(piece))) problems.push(`${label}: secret in the read-back`);
      // PATCH targets an entry created clean a moment before: its row is the last one.
      const audit = (await writeAudit(fx.workspaceId, target)).slice(-1);
      if (audit.length !== 1) problems.push(`${label}: no audit row for ${target}`);
      for (const row of audit) {
        if (!redactedIn(row)?.kinds.includes(sample.kind)) problems.push(`${label}: audit ${row.details}`);
        if (fragments(sample.secret).some((piece) => JSON.stringify(row).includes(piece))) problems.push(`${label}: secret in the audit row`);
      }
    }
    expect(problems).toEqual([]);
    await expectNoSecretOnDisk(fx.workspaceId, samples.map((s) => s.secret));
  });
});

describe("what is not a secret is kept as sent", () => {
  it("near misses pass through knowledge, sessions and events verbatim, with an empty report and no audit row", async () => {
    const fx = await workspaceWithTokens();
    for (const text of nearMisses) {
      const entry = await createEntry(fx, { body: text });
      expect(entry.response.status).toBe(201);
      expect((await jsonOf<{ redaction: Report }>(entry.response)).redaction, text).toEqual({ count: 0, kinds: [] });
      expect(((await entry.readBack()) as { body: string }).body).toBe(text);
    }
    const state = { notes: nearMisses };
    const session = await request(sessionPath(fx, "near"), { token: fx.member, method: "PUT", body: { rev: 0, state } });
    expect((await jsonOf<{ redaction: Report }>(session)).redaction.count).toBe(0);
    const read = await jsonOf<{ state: unknown }>(await request(sessionPath(fx, "near"), { token: fx.viewer }));
    expect(read.state).toEqual(state);
    const event = await request(workspacePath(fx.workspaceId, "/events"), { token: fx.member, body: { type: "near", payload: state } });
    expect(await jsonOf(event)).toMatchObject({ event: { payload: state }, redaction: { count: 0 } });
    const audit = await withWorkspace(fx.workspaceId, (db) => db.db.select().from(workspaceAuditLog));
    expect(audit.length).toBeGreaterThan(nearMisses.length);
    expect(audit.filter(redactedIn)).toEqual([]);
  });

  it("a binary artifact (application/octet-stream) is stored byte for byte, as sent", async () => {
    const fx = await workspaceWithTokens();
    const secret = secretSamples[0]!;
    const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x89]), Buffer.from(secret.text), Buffer.from([0xc3, 0x28])]);
    const blob = artifactPath(fx, "blob.bin");
    const put = await request(blob, { token: fx.member, method: "PUT", rawBody: bytes, headers: { "content-type": "application/octet-stream" } });
    expect(put.status).toBe(200);
    const meta = await jsonOf<{ artifact: { size: number; sha256: string }; redaction: Report }>(put);
    expect(meta.redaction.count).toBe(0);
    expect(meta.artifact.size).toBe(bytes.length);
    const got = await request(blob, { token: fx.viewer });
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    expect(got.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("a text artifact that is not valid UTF-8 (Latin-1) is still redacted, every other byte kept", async () => {
    const fx = await workspaceWithTokens();
    const secret = secretSamples.find((sample) => sample.kind === "github_token")!;
    const before = Buffer.from("caf\xe9 log: ", "latin1");
    const after = Buffer.from(" na\xefve\n", "latin1");
    const log = artifactPath(fx, "latin1.log");
    const put = await request(log, {
      token: fx.member,
      method: "PUT",
      rawBody: Buffer.concat([before, Buffer.from(secret.secret), after]),
      headers: { "content-type": "text/plain; charset=iso-8859-1" },
    });
    expect(put.status).toBe(200);
    expect((await jsonOf<{ redaction: Report }>(put)).redaction.kinds).toEqual(["github_token"]);
    const stored = Buffer.from(await (await request(log, { token: fx.viewer })).arrayBuffer());
    expect(stored.equals(Buffer.concat([before, Buffer.from("[REDACTED:github_token]"), after]))).toBe(true);
  });
});
