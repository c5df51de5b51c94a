import { beforeEach, describe, expect, it } from "vitest";
import { withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { snapshotWorkspace, teamTokenId, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { useTempStore } from "./store";

useTempStore();
beforeEach(() => resetRateLimits());

type Session = { name: string; channel: string | null; state: unknown; rev: number; updatedBy: string };
type Entry = { id: string; title: string; body: string; tags: string[]; source: string | null; version: number };

const sessionPath = (workspaceId: string, name: string) => workspacePath(workspaceId, `/sessions/${encodeURIComponent(name)}`);
const entryPath = (workspaceId: string, id: string, rest = "") => workspacePath(workspaceId, `/knowledge/${encodeURIComponent(id)}${rest}`);

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect((await jsonOf(response)).error).toBe(error);
}

async function sessions() {
  const fx = await workspaceWithTokens();
  const put = (name: string, body: unknown) => request(sessionPath(fx.workspaceId, name), { token: fx.member, method: "PUT", body });
  const get = async (name: string) => jsonOf<Session>(await request(sessionPath(fx.workspaceId, name), { token: fx.viewer }));
  return { ...fx, put, get };
}

async function raceOn(fx: Awaited<ReturnType<typeof sessions>>, name: string, rev: number) {
  const responses = await Promise.all(Array.from({ length: 20 }, (_, writer) => fx.put(name, { rev, state: { writer } })));
  const bodies = await Promise.all(responses.map((response) => jsonOf<{ session?: Session; currentRev?: number; error?: string }>(response)));
  const winners = responses.flatMap((response, i) => (response.status === 200 ? [bodies[i]!] : []));
  const losers = responses.flatMap((response, i) => (response.status === 409 ? [bodies[i]!] : []));
  return { statuses: responses.map((r) => r.status), winners, losers };
}

describe("agent sessions: optimistic concurrency on rev", () => {
  it("20 writers racing to create with rev 0: exactly one wins, the rest get 409 with currentRev; the winner's state is stored", async () => {
    const fx = await sessions();
    const race = await raceOn(fx, "plan", 0);
    expect(race.winners).toHaveLength(1);
    expect(race.losers).toHaveLength(19);
    for (const loser of race.losers) expect(loser).toMatchObject({ error: "rev_conflict", currentRev: 1 });
    const stored = await fx.get("plan");
    expect(stored.rev).toBe(1);
    expect(stored.state).toEqual(race.winners[0]!.session!.state);
    expect(stored.updatedBy).toBe(`token:${await teamTokenId(fx.member)}`);

    const second = await raceOn(fx, "plan", 1);
    expect(second.winners).toHaveLength(1);
    for (const loser of second.losers) expect(loser.currentRev).toBe(2);
    expect((await fx.get("plan")).state).toEqual(second.winners[0]!.session!.state);
  });

  it("a stale or future rev changes nothing; rev 0 on an existing session is stale too", async () => {
    const fx = await sessions();
    expect((await fx.put("s", { rev: 0, state: { v: 1 } })).status).toBe(200);
    expect((await fx.put("s", { rev: 1, state: { v: 2 } })).status).toBe(200);
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const rev of [0, 1, 3, 1000]) {
      const response = await fx.put("s", { rev, state: { v: "stale" } });
      expect(response.status, String(rev)).toBe(409);
      expect(await jsonOf(response)).toMatchObject({ error: "rev_conflict", currentRev: 2 });
    }
    const missing = await fx.put("missing", { rev: 1, state: {} });
    expect(missing.status).toBe(409);
    expect(await jsonOf(missing)).toMatchObject({ error: "rev_conflict", currentRev: 0 });
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await fx.get("s")).state).toEqual({ v: 2 });
  });

  it("keeps the channel when a write omits it and clears it on null; lists sessions without their state", async () => {
    const fx = await sessions();
    await fx.put("s", { rev: 0, state: { secretPlan: 1 }, channel: "deploys" });
    await fx.put("s", { rev: 1, state: { v: 2 } });
    expect((await fx.get("s")).channel).toBe("deploys");
    await fx.put("s", { rev: 2, state: { v: 3 }, channel: null });
    expect((await fx.get("s")).channel).toBeNull();
    const list = await request(workspacePath(fx.workspaceId, "/sessions"), { token: fx.viewer });
    const { items } = await jsonOf<{ items: Record<string, unknown>[] }>(list);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: "s", rev: 3 });
    expect(items[0]).not.toHaveProperty("state");
    await expectError(await request(sessionPath(fx.workspaceId, "nope"), { token: fx.viewer }), 404, "not_found");
  });
});

async function knowledge() {
  const fx = await workspaceWithTokens();
  const create = async (title: string, extra: Record<string, unknown> = {}) => {
    const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title, body: `${title} body`, ...extra } });
    expect(response.status).toBe(201);
    return (await jsonOf<{ entry: Entry }>(response)).entry;
  };
  const patch = (id: string, body: unknown) => request(entryPath(fx.workspaceId, id), { token: fx.member, method: "PATCH", body });
  const get = async (id: string) => jsonOf<Entry>(await request(entryPath(fx.workspaceId, id), { token: fx.viewer }));
  return { ...fx, create, patch, get };
}

describe("knowledge edits", () => {
  it("a PATCH with a stale version is a 409 with currentVersion and changes nothing", async () => {
    const fx = await knowledge();
    const entry = await fx.create("Runbook");
    expect((await fx.patch(entry.id, { body: "v2", version: 1 })).status).toBe(200);
    const before = await snapshotWorkspace(fx.workspaceId);
    const stale = await fx.patch(entry.id, { body: "lost update", version: 1 });
    expect(stale.status).toBe(409);
    expect(await jsonOf(stale)).toMatchObject({ error: "version_conflict", currentVersion: 2 });
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect((await fx.get(entry.id)).body).toBe("v2");
  });

  it("of 20 parallel PATCHes at the same version exactly one wins", async () => {
    const fx = await knowledge();
    const entry = await fx.create("Contended");
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => fx.patch(entry.id, { body: `writer ${i}`, version: 1 })));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    const winner = await jsonOf<{ entry: Entry }>(responses[statuses.indexOf(200)]!);
    expect(await fx.get(entry.id)).toMatchObject({ body: winner.entry.body, version: 2 });
  });

  it("a PATCH changes only the fields it names", async () => {
    const fx = await knowledge();
    const entry = await fx.create("Tagged", { tags: ["ops", "db"], source: "https://example.com/wiki" });
    const response = await fx.patch(entry.id, { title: "Renamed" });
    expect(response.status).toBe(200);
    const stored = await fx.get(entry.id);
    expect(stored).toMatchObject({ title: "Renamed", body: "Tagged body", tags: ["ops", "db"], source: "https://example.com/wiki", version: 2 });
    expect((await fx.patch(entry.id, { source: null })).status).toBe(200);
    expect(await fx.get(entry.id)).toMatchObject({ source: null, tags: ["ops", "db"] });
  });

  it("a PATCH that names no field, or an unknown entry, is refused", async () => {
    const fx = await knowledge();
    const entry = await fx.create("Alone");
    await expectError(await fx.patch(entry.id, { version: 1 }), 400, "invalid_request");
    await expectError(await fx.patch(entry.id, {}), 400, "invalid_request");
    await expectError(await fx.patch("kn_" + "0".repeat(32), { title: "x" }), 404, "not_found");
    await expectError(await fx.patch("not-an-id", { title: "x" }), 404, "not_found");
  });
});

describe("links between entries", () => {
  const link = (fx: Awaited<ReturnType<typeof knowledge>>, body: unknown) => request(workspacePath(fx.workspaceId, "/links"), { token: fx.member, body });
  const neighborsOf = async (fx: Awaited<ReturnType<typeof knowledge>>, id: string) => {
    const response = await request(entryPath(fx.workspaceId, id, "/neighbors"), { token: fx.viewer });
    const body = await jsonOf<{ items?: { direction: string; relation: string; id: string; title: string }[]; error?: string }>(response);
    return { status: response.status, error: body.error, items: body.items ?? [] };
  };

  it("links are directed, idempotent, and show from both ends with titles", async () => {
    const fx = await knowledge();
    const [a, b] = [await fx.create("Service A"), await fx.create("Service B")];
    const first = await link(fx, { from: a.id, to: b.id, relation: "depends_on" });
    expect(first.status).toBe(201);
    expect(await jsonOf(first)).toMatchObject({ from: a.id, to: b.id, relation: "depends_on" });
    expect((await link(fx, { from: a.id, to: b.id, relation: "depends_on" })).status).toBe(201);
    expect((await neighborsOf(fx, a.id)).items).toEqual([{ direction: "out", relation: "depends_on", id: b.id, title: "Service B" }]);
    expect((await neighborsOf(fx, b.id)).items).toEqual([{ direction: "in", relation: "depends_on", id: a.id, title: "Service A" }]);
    await expectError(await link(fx, { from: a.id, to: a.id, relation: "self" }), 400, "invalid_request");
    expect(await neighborsOf(fx, "kn_" + "0".repeat(32))).toMatchObject({ status: 404, error: "not_found" });
  });

  it("an entry of another workspace cannot be linked (404), in either direction, and nothing is stored", async () => {
    const fx = await knowledge();
    const other = await knowledge();
    const mine = await fx.create("Mine");
    const theirs = await other.create("Theirs");
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const body of [
      { from: mine.id, to: theirs.id, relation: "refs" },
      { from: theirs.id, to: mine.id, relation: "refs" },
    ]) {
      const response = await link(fx, body);
      expect(response.status).toBe(404);
      expect((await jsonOf(response)).error).toBe("not_found");
    }
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    expect(await neighborsOf(fx, theirs.id)).toMatchObject({ status: 404, error: "not_found" });
  });

  it("deleting an entry removes its links, both ways", async () => {
    const fx = await knowledge();
    const [a, b, c] = [await fx.create("A"), await fx.create("B"), await fx.create("C")];
    await link(fx, { from: a.id, to: b.id, relation: "refs" });
    await link(fx, { from: c.id, to: a.id, relation: "refs" });
    await link(fx, { from: b.id, to: c.id, relation: "refs" });
    const deleted = await request(entryPath(fx.workspaceId, a.id), { token: fx.member, method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect((await neighborsOf(fx, b.id)).items.map((n) => n.id)).toEqual([c.id]);
    expect((await neighborsOf(fx, c.id)).items.map((n) => n.id)).toEqual([b.id]);
    const rows = await withWorkspace(fx.workspaceId, (db) => db.rows("SELECT from_id, to_id FROM links"));
    expect(rows.flatMap((row) => [row.from_id, row.to_id])).not.toContain(a.id);
    expect(rows).toHaveLength(1);
  });
});
