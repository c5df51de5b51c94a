import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import pino from "pino";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { testConfig, useTempStore } from "@/test/store";
import { randomId } from "../crypto/ids";
import { closeStore, createWorkspaceFile, getControlDb, getStore, withWorkspace } from "../db/store";
import { appendAudit, auditControl, auditWorkspace, controlAuditLog, takeWrittenChains, workspaceAuditLog, workspaceChain } from "./audit";
import { auditSigner, publicKeyPem, verifyCheckpointLine } from "./checkpoint";
import { emitAuditCheckpoints, startAuditCheckpoints } from "./checkpoint-emitter";
import { readAuditHead } from "./chain";

const store = useTempStore();
// Chains noted by earlier tests in this process belong to data dirs that are gone.
beforeEach(() => void takeWrittenChains());

/** A logger like the real one, writing to an array instead of stdout (unit tests run with LOG_LEVEL=silent). */
function capture(level: pino.Level = "info") {
  const lines: string[] = [];
  const log = pino({ level, base: undefined }, { write: (line: string) => void lines.push(line.trim()) });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string });
  return { log, lines, parsed, checkpoints: () => lines.filter((line) => (JSON.parse(line) as { msg: string }).msg === "audit checkpoint") };
}

async function workspaceWithRows(rows: number): Promise<string> {
  const id = randomId("ws");
  await createWorkspaceFile(id);
  for (let i = 0; i < rows; i++) await auditWorkspace(id, { actor: { type: "system" }, action: "workspace.create" });
  return id;
}

describe("audit checkpoint emission", () => {
  it("signs control.db's head and each workspace chain written since the last emission, then only control.db's", async () => {
    await auditControl({ actor: { type: "system" }, action: "user.create" });
    const [viaHelper, untouched] = [await workspaceWithRows(2), await workspaceWithRows(0)];
    // The path knowledge and artifact deletion take: an append inside the caller's own transaction.
    const viaTransaction = await workspaceWithRows(0);
    await withWorkspace(viaTransaction, (db) => db.transaction((tx) => appendAudit(tx, workspaceChain(viaTransaction), { actor: { type: "system" }, action: "knowledge.delete" })));
    // And the one workspace creation takes: the first row is written while the file is still pending.
    const created = randomId("ws");
    await createWorkspaceFile(created, {
      init: (db) => db.transaction((tx) => appendAudit(tx, workspaceChain(created), { actor: { type: "system" }, action: "workspace.create" })),
    });

    const out = capture();
    await emitAuditCheckpoints(out.log, 1_796_000_000_000);
    const control = await readAuditHead((await getControlDb()).db, controlAuditLog);
    const head = (id: string) => withWorkspace(id, (db) => readAuditHead(db.db, workspaceAuditLog));
    const expected = [
      { chain: "control", ...control },
      { chain: `workspace:${viaHelper}`, ...(await head(viaHelper)) },
      { chain: `workspace:${viaTransaction}`, ...(await head(viaTransaction)) },
      { chain: `workspace:${created}`, ...(await head(created)) },
    ].map((checkpoint) => ({ ...checkpoint, at: 1_796_000_000_000 }));
    const lines = out.parsed();
    expect(lines.map((line) => line.checkpoint)).toEqual(expect.arrayContaining(expected));
    expect(lines).toHaveLength(4);
    expect(lines.map((line) => (line.checkpoint as { chain: string }).chain)).not.toContain(`workspace:${untouched}`);
    const signer = auditSigner(getStore().masterKey);
    for (const line of out.lines) {
      expect(JSON.parse(line)).toMatchObject({ level: 30, msg: "audit checkpoint", keyId: signer.keyId, signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) as string });
      expect(verifyCheckpointLine(line, publicKeyPem(signer.publicKey))).toMatchObject({ ok: true });
    }

    const again = capture();
    await emitAuditCheckpoints(again.log);
    expect(again.parsed().map((line) => (line.checkpoint as { chain: string }).chain)).toEqual(["control"]);
  });

  it("a workspace deleted after it was written is skipped with a warning, the rest are still signed", async () => {
    const gone = await workspaceWithRows(1);
    const kept = await workspaceWithRows(1);
    await closeStore();
    fs.rmSync(path.join(store.dataDir(), "workspaces", gone), { recursive: true });
    const out = capture();
    await emitAuditCheckpoints(out.log);
    const chains = out.parsed().map((line) => [line.msg, (line.checkpoint as { chain?: string } | undefined)?.chain ?? line.chain]);
    expect(chains).toEqual(
      expect.arrayContaining([
        ["audit checkpoint", "control"],
        ["audit checkpoint", `workspace:${kept}`],
        ["audit checkpoint skipped: the workspace could not be opened", `workspace:${gone}`],
      ]),
    );
    expect(chains).toHaveLength(3);
  });

  it("a chain with no head is reported, not signed", async () => {
    await (await getControlDb()).db.run(sql`DELETE FROM audit_head`);
    const out = capture();
    expect(await emitAuditCheckpoints(out.log)).toEqual([]);
    expect(out.parsed()).toEqual([expect.objectContaining({ level: 50, chain: "control", msg: expect.stringMatching(/no head/) as string })]);
  });
});

describe("the checkpoint schedule", () => {
  it("emits on every tick, and once more on stop, which resolves after that last line and ends the ticks", async () => {
    const out = capture();
    const schedule = startAuditCheckpoints(out.log, 25);
    await vi.waitFor(() => expect(out.checkpoints().length).toBeGreaterThanOrEqual(2));
    const before = out.checkpoints().length;
    await schedule.stop();
    expect(out.checkpoints().length).toBeGreaterThan(before);
    const count = out.lines.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(out.lines).toHaveLength(count);
  });

  it("says so at start when LOG_LEVEL would drop checkpoints, and a failed emission is logged, not thrown", async () => {
    const out = capture("warn");
    const schedule = startAuditCheckpoints(out.log, 60_000);
    expect(out.parsed()).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/LOG_LEVEL/) as string })]);
    // control.db cannot be opened under another master key: the emission fails.
    await closeStore();
    setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_MASTER_KEY: randomBytes(32).toString("hex") }));
    await expect(schedule.stop()).resolves.toBeUndefined();
    expect(out.parsed().at(-1)).toMatchObject({ level: 50, msg: "audit checkpoint failed" });
  });
});
