import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useTempStore } from "@/test/store";
import { createWorkspaceFile, getControlDb, withWorkspace } from "../db/store";
import { randomId } from "../crypto/ids";
import { AuditChainError, auditControl, auditWorkspace, controlAuditLog, verifyAuditChain, workspaceAuditLog } from "./audit";
import { GENESIS_HASH, readAuditHead, rowHash, type AuditRow } from "./chain";

useTempStore();

async function controlChainOf(rows: number) {
  for (let i = 0; i < rows; i++) {
    await auditControl({ actor: { type: "user", id: `u${i}` }, action: "user.sign_in", details: { i } });
  }
  const control = await getControlDb();
  return {
    db: control.db,
    verify: (checkpoint?: { seq: number; hash: string }) => verifyAuditChain(control.db, controlAuditLog, { checkpoint }),
    head: async () => (await readAuditHead(control.db, controlAuditLog))!,
  };
}

describe("audit chain", () => {
  it("verifies an untouched chain and finds the first edited row", async () => {
    const chain = await controlChainOf(5);
    expect(await chain.verify()).toEqual({ ok: true, rows: 5 });

    await chain.db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 3`);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it("detects a deleted row in the middle", async () => {
    const chain = await controlChainOf(4);
    await chain.db.run(sql`DELETE FROM audit_log WHERE seq = 2`);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it("keeps the chain whole under 200 concurrent writers on one workspace, with the head at the last seq", async () => {
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        auditWorkspace(workspaceId, { actor: { type: "user", id: `u${i}` }, action: "workspace.create" }),
      ),
    );
    const { verdict, head, last } = await withWorkspace(workspaceId, async (db) => ({
      verdict: await verifyAuditChain(db.db, workspaceAuditLog),
      head: await readAuditHead(db.db, workspaceAuditLog),
      last: await db.db.select().from(workspaceAuditLog).where(sql`seq = 200`),
    }));
    expect(verdict).toEqual({ ok: true, rows: 200 });
    expect(head).toEqual({ seq: 200, hash: last[0]?.hash });
  });

  it("never mistakes an append that lands during verification for truncation", async () => {
    const chain = await controlChainOf(1);
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 2 ? auditControl({ actor: { type: "system" }, action: "user.create" }).then(() => null) : chain.verify(),
      ),
    );
    for (const verdict of verdicts) if (verdict) expect(verdict).toMatchObject({ ok: true });
    expect(await chain.verify()).toEqual({ ok: true, rows: 31 });
  });
});

describe("truncation is caught by the head", () => {
  it("deleting the newest row fails verification at that seq", async () => {
    const chain = await controlChainOf(5);
    await chain.db.run(sql`DELETE FROM audit_log WHERE seq = 5`);
    expect(await chain.verify()).toEqual({
      ok: false,
      rows: 4,
      firstBadSeq: 5,
      reason: "row 5 is missing: the chain ends at 4 but its head is at 5",
    });
  });

  it("deleting every row fails verification from seq 1", async () => {
    const chain = await controlChainOf(3);
    await chain.db.run(sql`DELETE FROM audit_log`);
    expect(await chain.verify()).toMatchObject({ ok: false, rows: 0, firstBadSeq: 1, reason: expect.stringMatching(/rows 1–3 are missing/) as string });
  });

  it("deleting the head while rows remain fails verification, and the next append refuses rather than re-create it", async () => {
    const chain = await controlChainOf(2);
    await chain.db.run(sql`DELETE FROM audit_head`);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 2, reason: expect.stringMatching(/no head/) as string });
    await expect(auditControl({ actor: { type: "system" }, action: "user.create" })).rejects.toBeInstanceOf(AuditChainError);
    expect(await chain.db.$count(controlAuditLog)).toBe(2);
  });

  it("a head moved back below rows that still exist fails verification", async () => {
    const chain = await controlChainOf(3);
    const second = await chain.db.select().from(controlAuditLog).where(sql`seq = 2`);
    await chain.db.run(sql`UPDATE audit_head SET seq = 2, hash = ${second[0]?.hash}`);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 3, reason: expect.stringMatching(/past the head/) as string });
  });

  it("a head whose hash is not the last row's fails verification", async () => {
    const chain = await controlChainOf(2);
    await chain.db.run(sql`UPDATE audit_head SET hash = ${"f".repeat(64)}`);
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 2, reason: "row 2 does not have the head's hash" });
  });

  it("an append after truncation follows the head, so the gap stays visible instead of being closed", async () => {
    const chain = await controlChainOf(3);
    await chain.db.run(sql`DELETE FROM audit_log WHERE seq = 3`);
    await auditControl({ actor: { type: "system" }, action: "user.create" });
    expect(await chain.verify()).toMatchObject({ ok: false, firstBadSeq: 4, reason: "sequence gap: expected 3" });
  });

  it("an empty chain verifies against its genesis head, and a workspace chain is checked the same way", async () => {
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    const verify = () => withWorkspace(workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog));
    expect(await withWorkspace(workspaceId, (db) => readAuditHead(db.db, workspaceAuditLog))).toEqual({ seq: 0, hash: GENESIS_HASH });
    expect(await verify()).toEqual({ ok: true, rows: 0 });
    await auditWorkspace(workspaceId, { actor: { type: "system" }, action: "workspace.create" });
    await auditWorkspace(workspaceId, { actor: { type: "system" }, action: "knowledge.delete" });
    await withWorkspace(workspaceId, (db) => db.db.run(sql`DELETE FROM audit_log WHERE seq = 2`));
    expect(await verify()).toMatchObject({ ok: false, firstBadSeq: 2 });
  });
});

describe("an earlier checkpoint catches a rewritten head", () => {
  it("deleting rows and rewriting the head passes plain verification but not against the earlier checkpoint", async () => {
    const chain = await controlChainOf(5);
    const checkpoint = await chain.head();
    expect(await chain.verify(checkpoint)).toEqual({ ok: true, rows: 5 });

    const third = await chain.db.select().from(controlAuditLog).where(sql`seq = 3`);
    await chain.db.run(sql`DELETE FROM audit_log WHERE seq > 3`);
    await chain.db.run(sql`UPDATE audit_head SET seq = 3, hash = ${third[0]?.hash}`);

    expect(await chain.verify()).toEqual({ ok: true, rows: 3 });
    expect(await chain.verify(checkpoint)).toEqual({
      ok: false,
      rows: 3,
      firstBadSeq: 5,
      reason: `checkpoint 5:${checkpoint.hash} is not in the chain: row 5 is missing (the chain ends at 3)`,
    });
    // An older checkpoint the attacker left alone still holds.
    expect(await chain.verify({ seq: 3, hash: third[0]!.hash })).toEqual({ ok: true, rows: 3 });
  });

  it("rewriting a row and re-hashing everything after it, head included, fails against the earlier checkpoint", async () => {
    const chain = await controlChainOf(4);
    const checkpoint = await chain.head();
    const rows = await chain.db.select().from(controlAuditLog).orderBy(controlAuditLog.seq);
    // The hash is unkeyed: whoever can write the file can recompute the chain from any row on.
    let prevHash = rows[1]!.hash;
    for (const row of rows.slice(2)) {
      const rest: Omit<AuditRow, "hash"> = { ...withoutHash(row), actorId: "mallory", prevHash };
      prevHash = rowHash(rest);
      await chain.db.run(sql`UPDATE audit_log SET actor_id = 'mallory', prev_hash = ${rest.prevHash}, hash = ${prevHash} WHERE seq = ${row.seq}`);
    }
    await chain.db.run(sql`UPDATE audit_head SET hash = ${prevHash}`);

    expect(await chain.verify()).toEqual({ ok: true, rows: 4 });
    expect(await chain.verify(checkpoint)).toMatchObject({ ok: false, firstBadSeq: 4, reason: expect.stringMatching(/row 4 has another hash/) as string });
  });

  it("a checkpoint past the head, or with a hash that is not the row's, does not hold; seq 0 is every chain's start", async () => {
    const chain = await controlChainOf(2);
    const head = await chain.head();
    expect(await chain.verify({ seq: 3, hash: head.hash })).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(await chain.verify({ seq: 2, hash: GENESIS_HASH })).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(await chain.verify({ seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, rows: 2 });
    expect(await chain.verify({ seq: 0, hash: head.hash })).toMatchObject({ ok: false, firstBadSeq: 0 });
  });
});

function withoutHash(row: AuditRow): Omit<AuditRow, "hash"> {
  const copy: Partial<AuditRow> = { ...row };
  delete copy.hash;
  return copy as Omit<AuditRow, "hash">;
}
