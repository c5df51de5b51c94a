import { asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { auditHead as controlAuditHead, workspaces } from "@/db/control/schema";
import { useTempStore } from "@/test/store";
import { createUser } from "../auth/users";
import { randomId } from "../crypto/ids";
import { getControlDb, withWorkspace } from "../db/store";
import { createWorkspace } from "../workspace/workspaces";
import { appendAudit, auditControl, auditWorkspace, controlAuditLog, verifyAuditChain, workspaceAuditLog } from "./audit";
import { readAuditHead, type AuditRow } from "./chain";
import { sweepAuditRetention } from "./retention";

useTempStore();

// Rows are made old by appending them under a faked clock: `at` is part of each hash, so the chain stays genuine.
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse("2026-12-02T12:00:00Z");
const OLD = Date.parse("2025-06-01T09:00:00Z"); // well past the default 396 days
const RECENT = Date.parse("2026-06-01T09:00:00Z");

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

const controlRows = async (): Promise<AuditRow[]> => (await getControlDb()).db.select().from(controlAuditLog).orderBy(asc(controlAuditLog.seq));
const verifyControl = async (checkpoint?: { seq: number; hash: string }) => verifyAuditChain((await getControlDb()).db, controlAuditLog, { checkpoint });
const signIns = async (count: number, at: number) => {
  vi.setSystemTime(at);
  for (let i = 0; i < count; i++) await auditControl({ actor: { type: "user", id: `u${i}` }, action: "user.sign_in", details: { i } });
};

/** control.db: 4 old rows, then 3 recent ones; the sweep runs at NOW. */
async function controlHistory() {
  await signIns(4, OLD);
  await signIns(3, RECENT);
  vi.setSystemTime(NOW);
  const before = await controlRows();
  return { before, lastOld: before[3]!, recent: before.slice(4) };
}

describe("the retention sweep", () => {
  it("deletes the old prefix of control.db and of each workspace (a deleted one too), anchors each chain, and both still verify", async () => {
    vi.setSystemTime(OLD);
    const owner = await createUser({ email: "ada@example.com", password: "correct horse battery" });
    const kept = await createWorkspace({ type: "operator", ownerId: owner.id }, "Kept");
    const deleted = await createWorkspace({ type: "operator", ownerId: owner.id }, "Deleted");
    await auditWorkspace(kept.id, { actor: { type: "system" }, action: "knowledge.delete" });
    vi.setSystemTime(RECENT);
    await auditWorkspace(kept.id, { actor: { type: "system" }, action: "artifact.delete" });
    await auditControl({ actor: { type: "system" }, action: "user.create" });
    const control = await getControlDb();
    await control.db.update(workspaces).set({ deletedAt: RECENT, purgeAt: NOW + 10 * DAY }).where(eq(workspaces.id, deleted.id));
    // A workspace whose file is gone (purged, or still being created) is skipped, not an error.
    await control.db.insert(workspaces).values({ id: randomId("ws"), name: "No file", createdAt: OLD });
    vi.setSystemTime(NOW);
    const oldControl = (await controlRows()).filter((row) => row.at < RECENT);

    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 3, rowsDeleted: oldControl.length + 2 + 1 });

    const rows = await controlRows();
    expect(rows.map((row) => row.action)).toEqual(["user.create", "audit.retention_sweep"]);
    const lastOld = oldControl.at(-1)!;
    expect(JSON.parse(rows[1]!.details)).toEqual({
      deleted: oldControl.length,
      anchorSeq: lastOld.seq,
      anchorHash: lastOld.hash,
      cutoff: NOW - 396 * DAY,
      retentionDays: 396,
    });
    expect(rows[1]!.actorId).toBe("audit-retention");
    const [head] = await control.db.select().from(controlAuditHead);
    expect(head).toMatchObject({ anchorSeq: lastOld.seq, anchorHash: lastOld.hash, seq: rows[1]!.seq });
    expect(await verifyControl()).toEqual({ ok: true, rows: 2, anchor: { seq: lastOld.seq, hash: lastOld.hash } });

    const workspaceChain = (id: string) =>
      withWorkspace(id, async (db) => ({
        verdict: await verifyAuditChain(db.db, workspaceAuditLog),
        actions: (await db.db.select().from(workspaceAuditLog).orderBy(asc(workspaceAuditLog.seq))).map((row) => row.action),
      }));
    expect(await workspaceChain(kept.id)).toEqual({
      verdict: { ok: true, rows: 2, anchor: expect.objectContaining({ seq: 2 }) as object },
      actions: ["artifact.delete", "audit.retention_sweep"],
    });
    // Deleted but not yet purged: its history ages out like any other.
    expect(await workspaceChain(deleted.id)).toEqual({ verdict: { ok: true, rows: 1, anchor: expect.objectContaining({ seq: 1 }) as object }, actions: ["audit.retention_sweep"] });
  });

  it("keeps every row newer than the cutoff, and running again deletes nothing more and appends nothing", async () => {
    const { recent } = await controlHistory();
    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 1, rowsDeleted: 4 });
    const afterFirst = await controlRows();
    expect(afterFirst.slice(0, 3)).toEqual(recent);
    const head = await readAuditHead((await getControlDb()).db, controlAuditLog);

    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 1, rowsDeleted: 0 });
    expect(await sweepAuditRetention(NOW + 1000)).toEqual({ chains: 1, rowsDeleted: 0 });
    expect(await controlRows()).toEqual(afterFirst);
    expect(await readAuditHead((await getControlDb()).db, controlAuditLog)).toEqual(head);
  });

  it("deletes only a prefix: a row stamped before the cutoff after a newer one (the clock stepped back) waits, and no recent row goes early", async () => {
    await signIns(2, OLD);
    await signIns(1, RECENT);
    // The clock stepped back: this row claims to be old but follows a recent one.
    await signIns(1, OLD);
    vi.setSystemTime(NOW);
    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 1, rowsDeleted: 2 });
    expect((await controlRows()).map((row) => [row.seq, row.action])).toEqual([
      [3, "user.sign_in"],
      [4, "user.sign_in"],
      [5, "audit.retention_sweep"],
    ]);
    expect(await verifyControl()).toMatchObject({ ok: true, rows: 3 });
  });

  it("a chain swept of every row keeps verifying, and appending after a sweep continues it", async () => {
    await signIns(3, OLD);
    vi.setSystemTime(NOW);
    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 1, rowsDeleted: 3 });
    expect(await verifyControl()).toMatchObject({ ok: true, rows: 1, anchor: { seq: 3 } });
    await auditControl({ actor: { type: "system" }, action: "user.create" });
    expect(await verifyControl()).toMatchObject({ ok: true, rows: 2, anchor: { seq: 3 } });
    expect((await controlRows()).map((row) => row.seq)).toEqual([4, 5]);
  });

  it("sweeps a long history in batches, each its own transaction with its own sweep row", async () => {
    vi.setSystemTime(OLD);
    const control = await getControlDb();
    // One transaction for the fixture: 5,001 appends, each a genuine link of the chain.
    await control.transaction(async (tx) => {
      for (let i = 0; i < 5001; i++) await appendAudit(tx, "control", { actor: { type: "system" }, action: "user.create", details: { i } });
    });
    vi.setSystemTime(NOW);
    expect(await sweepAuditRetention(NOW)).toEqual({ chains: 1, rowsDeleted: 5001 });
    const rows = await controlRows();
    expect(rows.map((row) => [row.action, (JSON.parse(row.details) as { deleted: number }).deleted])).toEqual([
      ["audit.retention_sweep", 5000],
      ["audit.retention_sweep", 1],
    ]);
    expect(await verifyControl()).toMatchObject({ ok: true, rows: 2, anchor: { seq: 5001 } });
  });
});

describe("a swept chain still catches tampering", () => {
  it("an edited oldest kept row is caught", async () => {
    const { recent } = await controlHistory();
    await sweepAuditRetention(NOW);
    const control = await getControlDb();
    await control.db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = ${recent[0]!.seq}`);
    expect(await verifyControl()).toMatchObject({ ok: false, firstBadSeq: recent[0]!.seq, reason: "hash does not match the row's contents" });
  });

  it("a deleted oldest kept row is caught as a gap after the anchor", async () => {
    const { recent } = await controlHistory();
    await sweepAuditRetention(NOW);
    const control = await getControlDb();
    await control.db.run(sql`DELETE FROM audit_log WHERE seq = ${recent[0]!.seq}`);
    expect(await verifyControl()).toMatchObject({ ok: false, firstBadSeq: recent[1]!.seq, reason: `sequence gap: expected ${recent[0]!.seq}` });
  });

  it("an anchor whose hash was changed is caught at the oldest kept row", async () => {
    const { recent } = await controlHistory();
    await sweepAuditRetention(NOW);
    const control = await getControlDb();
    await control.db.run(sql`UPDATE audit_head SET anchor_hash = ${"e".repeat(64)}`);
    expect(await verifyControl()).toMatchObject({ ok: false, firstBadSeq: recent[0]!.seq, reason: "prev_hash does not match the retention anchor" });
  });

  it("an anchor moved past the head is caught", async () => {
    await controlHistory();
    const control = await getControlDb();
    await control.db.run(sql`UPDATE audit_head SET anchor_seq = 99`);
    expect(await verifyControl()).toMatchObject({ ok: false, firstBadSeq: 8, reason: "the retention anchor (99) is past the head (7)" });
  });

  it("deleting kept rows and moving the anchor over them (a sweep nobody ran) passes alone, but fails against a checkpoint it skipped", async () => {
    const { recent } = await controlHistory();
    await sweepAuditRetention(NOW);
    const skipped = recent[1]!;
    const control = await getControlDb();
    await control.db.run(sql`DELETE FROM audit_log WHERE seq <= ${skipped.seq}`);
    await control.db.run(sql`UPDATE audit_head SET anchor_seq = ${skipped.seq}, anchor_hash = ${skipped.hash}`);
    expect(await verifyControl()).toMatchObject({ ok: true });
    expect(await verifyControl({ seq: recent[0]!.seq, hash: recent[0]!.hash })).toMatchObject({
      ok: false,
      firstBadSeq: recent[0]!.seq,
      reason: expect.stringMatching(/is older than the retention anchor \(6\): its rows were swept/) as string,
    });
  });

  it("a chain whose old rows were tampered with is not swept (that would erase the evidence); the others are, and the job fails naming it", async () => {
    vi.setSystemTime(OLD);
    const owner = await createUser({ email: "ada@example.com", password: "correct horse battery" });
    const workspace = await createWorkspace({ type: "operator", ownerId: owner.id }, "Tampered");
    await auditWorkspace(workspace.id, { actor: { type: "system" }, action: "knowledge.delete" });
    await withWorkspace(workspace.id, (db) => db.db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 1`));
    vi.setSystemTime(NOW);
    await expect(sweepAuditRetention(NOW)).rejects.toThrow(`failed on 1: workspace:${workspace.id}`);
    expect(await withWorkspace(workspace.id, (db) => db.db.$count(workspaceAuditLog))).toBe(2);
    expect(await controlRows()).toHaveLength(1);
    expect((await controlRows())[0]!.action).toBe("audit.retention_sweep");
  });
});

describe("checkpoints across a sweep", () => {
  it("one taken before the sweep, after the new anchor, still verifies; one at the anchor verifies against the anchor's hash", async () => {
    const { lastOld, recent } = await controlHistory();
    const before = (await readAuditHead((await getControlDb()).db, controlAuditLog))!;
    await sweepAuditRetention(NOW);
    expect(await verifyControl(before)).toMatchObject({ ok: true });
    expect(await verifyControl({ seq: recent[0]!.seq, hash: recent[0]!.hash })).toMatchObject({ ok: true });
    expect(await verifyControl({ seq: lastOld.seq, hash: lastOld.hash })).toMatchObject({ ok: true });
    expect(await verifyControl({ seq: lastOld.seq, hash: recent[0]!.hash })).toMatchObject({ ok: false, firstBadSeq: lastOld.seq, reason: expect.stringMatching(/has another hash/) as string });
  });

  it("one older than the anchor fails, saying its rows were swept and which checkpoint to use instead", async () => {
    const { before } = await controlHistory();
    await sweepAuditRetention(NOW);
    const swept = before[1]!;
    expect(await verifyControl({ seq: swept.seq, hash: swept.hash })).toEqual({
      ok: false,
      rows: 4,
      firstBadSeq: swept.seq,
      reason: `checkpoint 2:${swept.hash} is older than the retention anchor (4): its rows were swept, so the chain can no longer show it holds it; check a checkpoint at or after 4`,
      anchor: { seq: 4, hash: before[3]!.hash },
    });
    expect(await verifyControl({ seq: 0, hash: "0".repeat(64) })).toMatchObject({ ok: false, firstBadSeq: 0 });
  });
});
