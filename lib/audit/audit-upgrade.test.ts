import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { controlSchema } from "@/db/control/schema";
import { workspaceSchema } from "@/db/workspace/schema";
import { setConfigForTests } from "@/lib/config";
import { makeTempDir, testConfig } from "@/test/store";
import { deriveControlKey, deriveWorkspaceKey } from "../crypto/keys";
import { randomId } from "../crypto/ids";
import { Connection } from "../db/connection";
import { Database } from "../db/database";
import { closeStore, getControlDb, withWorkspace } from "../db/store";
import { auditControl, controlAuditLog, verifyAuditChain, workspaceAuditLog } from "./audit";
import { GENESIS_HASH, readAuditHead, rowHash, type AuditRow } from "./chain";

// An instance that wrote audit rows before audit_head existed: its migration backfills the head.
const HEAD_MIGRATION = "0003_audit_head";
const dirs: string[] = [];
afterEach(async () => {
  await closeStore();
  setConfigForTests(undefined);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of `which`'s migrations folder that stops just before the head table. */
function migrationsBeforeHead(which: "control" | "workspace"): string {
  const source = path.join(process.cwd(), "db", which, "migrations");
  const target = makeTempDir();
  dirs.push(target);
  const journal = JSON.parse(fs.readFileSync(path.join(source, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((entry) => entry.tag === HEAD_MIGRATION);
  expect(cut).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, cut);
  fs.mkdirSync(path.join(target, "meta"));
  fs.writeFileSync(path.join(target, "meta/_journal.json"), JSON.stringify(journal));
  for (const { tag } of journal.entries) fs.copyFileSync(path.join(source, `${tag}.sql`), path.join(target, `${tag}.sql`));
  return target;
}

/** Creates `file` migrated to just before the head, with `rows` chained audit rows written the old way (no head). */
async function oldDatabase(file: string, key: Buffer, which: "control" | "workspace", rows: number): Promise<string> {
  const connection = await Connection.open(file, key, { create: true });
  const db = new Database(connection, which === "control" ? controlSchema : workspaceSchema);
  await db.migrate(migrationsBeforeHead(which));
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= rows; seq++) {
    const row: Omit<AuditRow, "hash"> = {
      seq,
      at: Date.now(),
      actorType: "system",
      actorId: null,
      action: "user.create",
      target: null,
      ip: null,
      userAgent: null,
      requestId: null,
      details: "{}",
      prevHash,
    };
    prevHash = rowHash(row);
    await db.db.insert(controlAuditLog).values({ ...row, hash: prevHash });
  }
  await db.close();
  return prevHash;
}

describe("upgrading a database written before audit_head", () => {
  it("backfills each chain's head from its newest row, so it verifies and appends continue the chain", async () => {
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    const master = randomBytes(32);
    fs.writeFileSync(path.join(dataDir, "master.key"), master.toString("hex") + "\n", { mode: 0o600 });
    const [used, empty] = [randomId("ws"), randomId("ws")];
    const workspaceFile = (id: string) => {
      fs.mkdirSync(path.join(dataDir, "workspaces", id), { recursive: true, mode: 0o700 });
      return path.join(dataDir, "workspaces", id, "workspace.db");
    };
    const controlLast = await oldDatabase(path.join(dataDir, "control.db"), deriveControlKey(master), "control", 3);
    const workspaceLast = await oldDatabase(workspaceFile(used), deriveWorkspaceKey(master, used), "workspace", 2);
    await oldDatabase(workspaceFile(empty), deriveWorkspaceKey(master, empty), "workspace", 0);

    setConfigForTests(testConfig(dataDir));
    const control = await getControlDb();
    expect(await readAuditHead(control.db, controlAuditLog)).toEqual({ seq: 3, hash: controlLast });
    expect(await verifyAuditChain(control.db, controlAuditLog)).toEqual({ ok: true, rows: 3 });
    const workspace = (id: string) =>
      withWorkspace(id, async (db) => ({ head: await readAuditHead(db.db, workspaceAuditLog), verdict: await verifyAuditChain(db.db, workspaceAuditLog) }));
    expect(await workspace(used)).toEqual({ head: { seq: 2, hash: workspaceLast }, verdict: { ok: true, rows: 2 } });
    expect(await workspace(empty)).toEqual({ head: { seq: 0, hash: GENESIS_HASH }, verdict: { ok: true, rows: 0 } });

    await auditControl({ actor: { type: "system" }, action: "user.create" });
    expect(await verifyAuditChain(control.db, controlAuditLog)).toEqual({ ok: true, rows: 4 });
    expect(await verifyAuditChain(control.db, controlAuditLog, { checkpoint: { seq: 3, hash: controlLast } })).toEqual({ ok: true, rows: 4 });
  });
});
