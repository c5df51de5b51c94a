import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { workspaces } from "@/db/control/schema";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { runBackup } from "@/lib/backup/backup";
import { RestoreRefusedError, swapInWorkspace } from "@/lib/backup/swap";
import { CLI_ACTOR } from "@/lib/cli/args";
import { closeStore, getControlDb, getStore, withWorkspace } from "@/lib/db/store";
import { workspaceWithTokens } from "./api";
import { ageKeyPair } from "./backup-fixture";
import { jsonOf, request, workspacePath } from "./harness";
import { makeTempDir, useTempStore } from "./store";

const age = await ageKeyPair();
// Streams re-check their access on each heartbeat: a short one shows the offline workspace ending them.
// Backups go to the default folder beside the data dir (<dataDir>-backups), removed after each test.
const store = useTempStore({ ENCLAVE_SSE_HEARTBEAT_SECONDS: "1", ENCLAVE_BACKUP_RECIPIENTS: age.recipient });
afterEach(() => fs.rmSync(`${store.dataDir()}-backups`, { recursive: true, force: true }));

const addKnowledge = (workspaceId: string, token: string, title: string) =>
  request(workspacePath(workspaceId, "/knowledge"), { token, body: { title, body: `${title} body` } });
const titles = async (workspaceId: string, token: string) => JSON.stringify(await jsonOf(await request(workspacePath(workspaceId, "/knowledge"), { token })));

/** A copy of the workspace's file as a backup would hold it: the store closed, so the WAL is checkpointed into it. */
async function copyOfWorkspaceFile(workspaceId: string): Promise<string> {
  const file = getStore().workspaceFile(workspaceId);
  await closeStore();
  const copy = path.join(makeTempDir(), "workspace.db");
  fs.copyFileSync(file, copy);
  await getStore().control;
  return copy;
}

/** `enclave backup restore --workspace` in a process of its own, beside this one's store (the server's). */
function restoreInChild(workspaceId: string, backupId: string) {
  const identityFile = path.join(`${store.dataDir()}-backups`, "identity.txt");
  fs.writeFileSync(identityFile, age.identity, { mode: 0o600 });
  const child = spawn(process.execPath, ["bin/enclave.mjs", "backup", "restore", "--workspace", workspaceId, "--from", backupId, "--identity", identityFile], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", ENCLAVE_DATA_DIR: store.dataDir(), ENCLAVE_BACKUP_RECIPIENTS: age.recipient },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number | null; output: string }>((resolve) => child.on("close", (code) => resolve({ code, output })));
}

async function offlineSince(workspaceId: string): Promise<number | null | undefined> {
  const control = await getControlDb();
  const [row] = await control.db.select({ offlineSince: workspaces.offlineSince }).from(workspaces).where(eq(workspaces.id, workspaceId));
  return row?.offlineSince;
}

describe("restoring one workspace into a live instance", () => {
  it("refuses through the CLI a workspace the backup does not hold, leaving it online", async () => {
    const { backupId } = await runBackup({ now: Date.now() });
    const late = await workspaceWithTokens();
    const refused = await restoreInChild(late.workspaceId, backupId);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/holds no workspace/);
    expect(await offlineSince(late.workspaceId)).toBeNull();
    expect(fs.readdirSync(path.join(store.dataDir(), "workspaces")).filter((name) => name.includes("."))).toEqual([]);
  }, 60_000);

  it("swaps the file under a server holding a cached handle: 503 while offline, the backup's data after, writes land in the new file only", async () => {
    const ws = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    expect((await addKnowledge(ws.workspaceId, ws.member, "in the backup")).status).toBe(201);
    const { backupId } = await runBackup({ now: Date.now() });
    expect((await addKnowledge(ws.workspaceId, ws.member, "after the backup")).status).toBe(201);
    expect(await titles(ws.workspaceId, ws.member)).toContain("after the backup");

    // The old file (and its WAL) stay reachable through hard links, to prove nothing more is written to them.
    const live = getStore().workspaceFile(ws.workspaceId);
    const keep = makeTempDir();
    const oldFiles = ["", "-wal"].filter((suffix) => fs.existsSync(live + suffix)).map((suffix) => {
      fs.linkSync(live + suffix, path.join(keep, `old${suffix}`));
      return path.join(keep, `old${suffix}`);
    });

    const stream = await request(workspacePath(ws.workspaceId, "/events/stream"), { token: ws.member });
    expect(stream.status).toBe(200);
    const streamEnded = stream.text();

    const swapping = restoreInChild(ws.workspaceId, backupId);
    const deadline = Date.now() + 20_000;
    let exited: { code: number | null; output: string } | undefined;
    void swapping.then((result) => (exited = result));
    while ((await offlineSince(ws.workspaceId)) == null && !exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exited, "the restore ended before taking the workspace offline").toBeUndefined();
    const during = await request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.member });
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toMatch(/^\d+$/);
    const body = await jsonOf(during);
    expect(body.error).toBe("workspace_offline");
    expect(body.message).toMatch(/being restored/);
    expect(typeof body.requestId).toBe("string");
    expect((await addKnowledge(ws.workspaceId, ws.admin, "during the swap")).status).toBe(503);
    const mcp = await request("/mcp", { token: ws.member, body: { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, headers: { accept: "application/json, text/event-stream" } });
    expect(mcp.status).toBe(503);
    expect((await jsonOf(mcp)).error).toBe("workspace_offline");
    // The live stream opened before it went offline has ended.
    await streamEnded;
    // Another workspace serves on; a token of another workspace still gets the 404, not the 503.
    expect((await request(workspacePath(other.workspaceId, "/knowledge"), { token: other.member })).status).toBe(200);
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { token: other.member })).status).toBe(404);

    const swapped = await swapping;
    expect(swapped.code, swapped.output).toBe(0);
    expect(swapped.output).toMatch(new RegExp(`workspace ${ws.workspaceId} is back, from backup ${backupId}`));
    const oldStats = oldFiles.map((file) => ({ size: fs.statSync(file).size, mtimeMs: fs.statSync(file).mtimeMs }));

    const after = await titles(ws.workspaceId, ws.member);
    expect(after).toContain("in the backup");
    expect(after).not.toContain("after the backup");
    expect((await addKnowledge(ws.workspaceId, ws.member, "written after the restore")).status).toBe(201);
    expect(await titles(ws.workspaceId, ws.member)).toContain("written after the restore");
    expect(oldFiles.map((file) => ({ size: fs.statSync(file).size, mtimeMs: fs.statSync(file).mtimeMs }))).toEqual(oldStats);
    expect(await offlineSince(ws.workspaceId)).toBeNull();
    expect(fs.readdirSync(path.dirname(path.dirname(live))).filter((name) => name.includes("."))).toEqual([]);
    expect(await titles(other.workspaceId, other.member)).not.toContain("backup");

    // Audited in both chains, and both still verify.
    const control = await getControlDb();
    const actions = (await control.db.select().from(controlAuditLog)).filter((row) => row.target === ws.workspaceId).map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(["workspace.taken_offline", "workspace.restore_from_backup"]));
    expect((await verifyAuditChain(control.db, controlAuditLog)).ok).toBe(true);
    await withWorkspace(ws.workspaceId, async (db) => {
      const rows = await db.db.select().from(workspaceAuditLog);
      expect(rows.map((row) => row.action)).toContain("workspace.restore_from_backup");
      expect((await verifyAuditChain(db.db, workspaceAuditLog)).ok).toBe(true);
    });
    fs.rmSync(keep, { recursive: true, force: true });
  }, 60_000);

  it("refuses another workspace's file, a workspace that does not exist, and a deleted one, changing nothing", async () => {
    const ws = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    const othersFile = await copyOfWorkspaceFile(other.workspaceId);
    const options = { backupId: "20261202T050000Z-abcdef", actor: CLI_ACTOR, drainMs: 0 };

    await expect(swapInWorkspace(ws.workspaceId, othersFile, options)).rejects.toThrow(/another workspace's file/);
    expect(await offlineSince(ws.workspaceId)).toBeNull();
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { token: ws.member })).status).toBe(200);

    await expect(swapInWorkspace("ws_" + "0".repeat(32), othersFile, options)).rejects.toThrow(/never created, or purged/);
    await expect(swapInWorkspace("../../etc", othersFile, options)).rejects.toBeInstanceOf(RestoreRefusedError);

    const control = await getControlDb();
    await control.db.update(workspaces).set({ deletedAt: Date.now() }).where(eq(workspaces.id, other.workspaceId));
    await expect(swapInWorkspace(other.workspaceId, othersFile, options)).rejects.toThrow(/is deleted/);
    expect(fs.readdirSync(path.join(store.dataDir(), "workspaces")).filter((name) => name.includes("."))).toEqual([]);
  });

  it("settles folders a crash left mid-swap at the next start", async () => {
    const ws = await workspaceWithTokens();
    expect((await addKnowledge(ws.workspaceId, ws.member, "still here")).status).toBe(201);
    await closeStore();
    const root = path.join(store.dataDir(), "workspaces");
    // Crashed between the two renames: only the replaced folder and the staged one exist.
    fs.renameSync(path.join(root, ws.workspaceId), path.join(root, `${ws.workspaceId}.replaced`));
    fs.mkdirSync(path.join(root, `${ws.workspaceId}.restore`));
    await getStore().control;
    expect(fs.readdirSync(root).sort()).toEqual([ws.workspaceId]);
    expect(await titles(ws.workspaceId, ws.member)).toContain("still here");
  });

  it("costs one stat per use of a cached handle", () => {
    const file = getStore().workspaceFile("ws_" + "0".repeat(32));
    const rounds = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i += 1) fs.statSync(file, { throwIfNoEntry: false });
    const microseconds = Number(process.hrtime.bigint() - started) / 1000 / rounds;
    console.info(`fs.statSync per cached-handle use: ${microseconds.toFixed(2)} µs`);
    expect(microseconds).toBeLessThan(100);
  });
});
