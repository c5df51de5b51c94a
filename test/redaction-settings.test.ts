import { beforeEach, describe, expect, it } from "vitest";
import { workspaceAuditLog } from "@/lib/audit/audit";
import { withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { secretSamples, strictSamples } from "./secrets";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

type Fx = Awaited<ReturnType<typeof workspaceWithTokens>>;
type Written = { entry: { id: string; body: string }; redaction: { count: number; kinds: string[] } };

const setSettings = (fx: Fx, body: unknown) => request(workspacePath(fx.workspaceId, "/settings/redaction"), { token: fx.admin, method: "PUT", body });
const getSettings = async (fx: Fx) => jsonOf(await request(workspacePath(fx.workspaceId, "/settings/redaction"), { token: fx.admin }));

async function write(fx: Fx, body: string): Promise<Written> {
  const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title: "Note", body } });
  expect(response.status).toBe(201);
  return jsonOf<Written>(response);
}

const storedBody = async (fx: Fx, id: string) =>
  (await jsonOf<{ body: string }>(await request(workspacePath(fx.workspaceId, `/knowledge/${encodeURIComponent(id)}`), { token: fx.viewer }))).body;

const auditActions = (workspaceId: string) =>
  withWorkspace(workspaceId, async (db) => (await db.db.select().from(workspaceAuditLog)).map((row) => ({ action: row.action, details: JSON.parse(row.details) as Record<string, unknown> })));

describe("redaction settings", () => {
  it("start at standard with no custom patterns", async () => {
    const fx = await workspaceWithTokens();
    expect(await getSettings(fx)).toEqual({ level: "standard", customPatterns: [] });
  });

  // `off` is the admin's deliberate choice (e.g. a workspace that exists to hold credentials
  // for a vault migration): it is audited, and the data is still encrypted at rest.
  it("at level off, secrets are stored as sent, nothing is reported, and the change itself is audited", async () => {
    const fx = await workspaceWithTokens();
    expect((await setSettings(fx, { level: "off", customPatterns: [{ name: "ticket", pattern: "TICKET-[0-9]{6}" }] })).status).toBe(200);
    for (const sample of secretSamples.slice(0, 8)) {
      const written = await write(fx, `${sample.text} TICKET-123456`);
      expect(written.redaction).toEqual({ count: 0, kinds: [] });
      expect(await storedBody(fx, written.entry.id)).toBe(`${sample.text} TICKET-123456`);
    }
    const audit = await auditActions(fx.workspaceId);
    expect(audit.filter((row) => row.details.redaction !== undefined)).toEqual([]);
    expect(audit.find((row) => row.action === "redaction.settings_change")?.details).toEqual({ level: "off", customPatterns: ["ticket"] });

    // Back at standard, new writes are redacted again; what was stored meanwhile stays as it was.
    expect((await setSettings(fx, { level: "standard", customPatterns: [] })).status).toBe(200);
    const sample = secretSamples[0]!;
    const again = await write(fx, sample.text);
    expect(again.redaction.kinds).toContain(sample.kind);
    expect(await storedBody(fx, again.entry.id)).not.toContain(sample.secret);
  });

  it("strict also catches long high-entropy strings that standard keeps", async () => {
    const fx = await workspaceWithTokens();
    for (const sample of strictSamples) {
      const kept = await write(fx, sample.text);
      expect(kept.redaction.count).toBe(0);
      expect(await storedBody(fx, kept.entry.id)).toBe(sample.text);
    }
    expect((await setSettings(fx, { level: "strict", customPatterns: [] })).status).toBe(200);
    for (const sample of [...strictSamples, ...secretSamples]) {
      const written = await write(fx, sample.text);
      expect(written.redaction.count, sample.text.slice(0, 40)).toBeGreaterThan(0);
      const stored = await storedBody(fx, written.entry.id);
      expect(stored).toContain("[REDACTED:");
      expect(stored).not.toContain(sample.secret);
    }
    expect((await write(fx, strictSamples[0]!.text)).redaction.kinds).toEqual(["high_entropy"]);
  });

  it("a custom pattern catches its match, reported and audited under its own name", async () => {
    const fx = await workspaceWithTokens();
    const put = await setSettings(fx, { level: "standard", customPatterns: [{ name: "ticket", pattern: "TICKET-[0-9]{6}" }, { name: "internal_host", pattern: "[a-z0-9]+\\.corp\\.internal" }] });
    expect(put.status).toBe(200);
    const written = await write(fx, "See TICKET-004211 on build7.corp.internal, not TICKET-12.");
    expect(written.redaction).toEqual({ count: 2, kinds: ["custom:internal_host", "custom:ticket"] });
    expect(await storedBody(fx, written.entry.id)).toBe("See [REDACTED:custom:ticket] on [REDACTED:custom:internal_host], not TICKET-12.");
    const applied = (await auditActions(fx.workspaceId)).filter((row) => row.details.redaction !== undefined);
    expect(applied.map((row) => [row.action, row.details.redaction])).toEqual([["knowledge.create", { count: 2, kinds: ["custom:internal_host", "custom:ticket"] }]]);
    expect(JSON.stringify(applied)).not.toContain("004211");
  });

  it("refuses invalid, unsafe or unbounded patterns with a 400 and keeps the settings as they were", async () => {
    const fx = await workspaceWithTokens();
    const current = { level: "strict", customPatterns: [{ name: "ticket", pattern: "TICKET-[0-9]{6}" }] };
    expect((await setSettings(fx, current)).status).toBe(200);
    const pattern = (p: string, name = "bad") => ({ level: "standard", customPatterns: [{ name, pattern: p }] });
    const refused: unknown[] = [
      pattern("(?=secret)\\w+"), // lookahead: not RE2
      pattern("(?<!x)y"), // lookbehind
      pattern("(a)\\1"), // backreference: not RE2
      pattern("("), // does not compile
      pattern("[z-a]"),
      pattern("a*"), // matches the empty string, so everything
      pattern("x?|y?"),
      pattern(""),
      pattern("a".repeat(301)),
      pattern("ok", "Bad Name"),
      pattern("ok", ""),
      { level: "standard", customPatterns: [{ name: "dup", pattern: "a" }, { name: "dup", pattern: "b" }] },
      { level: "standard", customPatterns: Array.from({ length: 21 }, (_, i) => ({ name: `p${i}`, pattern: `x${i}` })) },
      { level: "paranoid", customPatterns: [] },
      { customPatterns: [] },
    ];
    for (const body of refused) {
      const response = await setSettings(fx, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = await jsonOf<{ error: string; fieldErrors?: Record<string, string[]> }>(response);
      expect(error.error).toBe("invalid_request");
      expect(Object.keys(error.fieldErrors ?? {}).length).toBeGreaterThan(0);
    }
    expect(await getSettings(fx)).toEqual(current);
  });

  it("a pattern that would backtrack catastrophically elsewhere is accepted, since RE2 matches in linear time", async () => {
    const fx = await workspaceWithTokens();
    expect((await setSettings(fx, { level: "standard", customPatterns: [{ name: "evil", pattern: "(a+)+$" }, { name: "evil2", pattern: "(x|x)*y" }] })).status).toBe(200);
    const hostile = "a".repeat(200_000) + "!" + "x".repeat(50_000);
    const written = await write(fx, hostile);
    expect(written.redaction.count).toBe(0);
    expect((await write(fx, "ends with aaaa")).redaction.kinds).toEqual(["custom:evil"]);
  });
});
