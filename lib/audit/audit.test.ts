import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useTempStore } from "@/test/store";
import { createWorkspaceFile, getControlDb, withWorkspace } from "../db/store";
import { randomId } from "../crypto/tokens";
import { auditControl, auditWorkspace, controlAuditLog, verifyAuditChain, workspaceAuditLog } from "./audit";

useTempStore();

describe("audit chain", () => {
  it("verifies an untouched chain and finds the first edited row", async () => {
    for (let i = 0; i < 5; i++) {
      await auditControl({ actor: { type: "user", id: `u${i}` }, action: "user.sign_in", details: { i } });
    }
    const control = await getControlDb();
    expect(await verifyAuditChain(control.db, controlAuditLog)).toEqual({ ok: true, rows: 5 });

    await control.db.run(sql`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 3`);
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it("detects a deleted row in the middle", async () => {
    for (let i = 0; i < 4; i++) await auditControl({ actor: { type: "system" }, action: "user.create" });
    const control = await getControlDb();
    await control.db.run(sql`DELETE FROM audit_log WHERE seq = 2`);
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it("keeps the chain whole under 200 concurrent writers on one workspace", async () => {
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        auditWorkspace(workspaceId, { actor: { type: "user", id: `u${i}` }, action: "workspace.create" }),
      ),
    );
    const verdict = await withWorkspace(workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog));
    expect(verdict).toEqual({ ok: true, rows: 200 });
  });
});
