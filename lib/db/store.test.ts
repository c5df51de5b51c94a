import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setConfigForTests } from "@/lib/config";
import { appendAudit, auditControl, auditWorkspace, controlAuditLog, verifyAuditChain, workspaceAuditLog, workspaceChain as chainOf } from "@/lib/audit/audit";
import { MasterKeyError } from "@/lib/crypto/keys";
import { randomId } from "@/lib/crypto/ids";
import { makeTempDir, testConfig } from "@/test/store";
import { workspaces } from "@/db/control/schema";
import { Connection } from "./connection";
import type { WorkspaceDb } from "./store";
import { closeStore, createWorkspaceFile, getControlDb, getStore, withWorkspace } from "./store";

const dirs: string[] = [];
afterEach(async () => {
  await closeStore();
  setConfigForTests(undefined);
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Points the process at a fresh data dir (or `dataDir`) with `env`; the store opens on first use. */
function useDataDir(env: Record<string, string> = {}, dataDir = makeTempDir()): string {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  setConfigForTests(testConfig(dataDir, env));
  return dataDir;
}

/** closeStore, then the same data dir under `env`: what a server restart does. */
async function restart(dataDir: string, env: Record<string, string> = {}): Promise<void> {
  await closeStore();
  setConfigForTests(testConfig(dataDir, env));
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const mode = (file: string) => fs.statSync(file).mode & 0o777;
/** Every path under `dir`, so a test can assert nothing was created. */
const tree = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
/** drizzle wraps a driver error as "Failed query: …" and keeps the original as `cause`. */
async function expectFailedBecause(query: PromiseLike<unknown> | undefined, pattern: RegExp): Promise<void> {
  const error = await Promise.resolve(query).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect(((error as Error).cause as Error | undefined)?.message).toMatch(pattern);
}

const workspaceChain = (workspaceId: string) => withWorkspace(workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog));

describe("a wrong master key stops the store and never replaces the data", () => {
  it("another ENCLAVE_MASTER_KEY: control rejects with a MasterKeyError naming the key, control.db unchanged", async () => {
    const rightKey = randomBytes(32).toString("hex");
    const dataDir = useDataDir({ ENCLAVE_MASTER_KEY: rightKey });
    await auditControl({ actor: { type: "system" }, action: "user.create" });
    await restart(dataDir, { ENCLAVE_MASTER_KEY: randomBytes(32).toString("hex") });
    const controlFile = path.join(dataDir, "control.db");
    const before = sha256(controlFile);
    const filesBefore = tree(dataDir);

    const error = await getStore().control.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toMatch(/master key/i);
    expect((error as Error).message).toContain("ENCLAVE_MASTER_KEY");
    expect(sha256(controlFile)).toBe(before);
    expect(tree(dataDir)).toEqual(filesBefore);

    // The right key still opens the untouched data.
    await restart(dataDir, { ENCLAVE_MASTER_KEY: rightKey });
    expect(await verifyAuditChain((await getControlDb()).db, controlAuditLog)).toEqual({ ok: true, rows: 1 });
  });

  it("a master.key file replaced by another key is refused the same way", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    await closeStore();
    const before = sha256(path.join(dataDir, "control.db"));
    fs.writeFileSync(path.join(dataDir, "master.key"), randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
    await restart(dataDir);
    await expect(getStore().control).rejects.toThrow(MasterKeyError);
    expect(sha256(path.join(dataDir, "control.db"))).toBe(before);
  });

  it("master.key missing beside control.db: MasterKeyError, no new key written, control.db unchanged", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    await closeStore();
    const before = sha256(path.join(dataDir, "control.db"));
    fs.rmSync(path.join(dataDir, "master.key"));
    await restart(dataDir);
    expect(() => getStore()).toThrow(MasterKeyError);
    expect(fs.existsSync(path.join(dataDir, "master.key"))).toBe(false);
    expect(sha256(path.join(dataDir, "control.db"))).toBe(before);
  });
});

describe("the generated master key", () => {
  it("is written on first start as 64 hex characters, 0600, and read back on the next with the data intact", async () => {
    const dataDir = useDataDir();
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    await auditWorkspace(workspaceId, { actor: { type: "system" }, action: "workspace.create" });
    const keyFile = path.join(dataDir, "master.key");
    const written = fs.readFileSync(keyFile, "utf8");
    expect(written.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(keyFile)).toBe(0o600);

    await restart(dataDir);
    expect(await workspaceChain(workspaceId)).toEqual({ ok: true, rows: 1 });
    expect(fs.readFileSync(keyFile, "utf8")).toBe(written);
  });

  it("is not written when ENCLAVE_MASTER_KEY is set", async () => {
    const dataDir = useDataDir({ ENCLAVE_MASTER_KEY: randomBytes(32).toString("base64") });
    await getStore().control;
    expect(fs.existsSync(path.join(dataDir, "master.key"))).toBe(false);
  });
});

describe("file modes are 0700 for folders and 0600 for files, and restored at start", () => {
  it("after the store opens, and again after they were loosened and the store re-opened", async () => {
    const dataDir = useDataDir();
    const workspaceId = randomId("ws");
    await createWorkspaceFile(workspaceId);
    const workspaceDir = path.join(dataDir, "workspaces", workspaceId);
    const folders = [dataDir, path.join(dataDir, "workspaces"), workspaceDir];
    const files = [path.join(dataDir, "control.db"), path.join(workspaceDir, "workspace.db"), path.join(dataDir, "master.key")];
    const expectPrivate = () => {
      for (const folder of folders) expect({ folder, mode: mode(folder).toString(8) }).toEqual({ folder, mode: "700" });
      for (const file of files) expect({ file, mode: mode(file).toString(8) }).toEqual({ file, mode: "600" });
    };
    expectPrivate();

    await closeStore();
    for (const file of files) fs.chmodSync(file, 0o644);
    for (const folder of folders) fs.chmodSync(folder, 0o755);
    await getStore().control;
    expectPrivate();
  });

  it("also when the data dir is a symlink to the real folder", async () => {
    const realDir = makeTempDir();
    const link = `${realDir}-link`;
    fs.symlinkSync(realDir, link);
    dirs.push(realDir, link);
    useDataDir({}, link);
    await getStore().control;
    await closeStore();
    fs.chmodSync(path.join(realDir, "control.db"), 0o644);
    fs.chmodSync(realDir, 0o755);
    await getStore().control;
    expect(mode(path.join(realDir, "control.db"))).toBe(0o600);
    expect(mode(realDir)).toBe(0o700);
  });
});

describe("workspace ids never become arbitrary paths", () => {
  const badIds = ["../../etc", "ws_../../etc", `ws_${"a".repeat(31)}`, `ws_${"a".repeat(33)}`, `WS_${"a".repeat(32)}`, `ws_${"A".repeat(32)}`, `ws_${"a".repeat(31)}/`, "", "ws_"];

  it.each(badIds)("workspaceFile(%j) throws", (id) => {
    useDataDir();
    expect(() => getStore().workspaceFile(id)).toThrow(/invalid workspace id/);
  });

  it("withWorkspace and createWorkspaceFile reject those ids and create nothing", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    const before = tree(dataDir);
    for (const id of badIds) {
      await expect(withWorkspace(id, () => Promise.resolve())).rejects.toThrow(/invalid workspace id/);
      await expect(createWorkspaceFile(id)).rejects.toThrow(/invalid workspace id/);
    }
    expect(tree(dataDir)).toEqual(before);
    expect(getStore().openWorkspaceCount).toBe(0);
  });

  it("withWorkspace on a well-formed id that was never created rejects and creates no file or folder", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    const before = tree(dataDir);
    const unknown = randomId("ws");
    let ran = false;
    const markRan = () => {
      ran = true;
      return Promise.resolve();
    };
    await expect(withWorkspace(unknown, markRan)).rejects.toThrow(/does not exist/);
    expect(ran).toBe(false);
    expect(tree(dataDir)).toEqual(before);
    expect(fs.existsSync(path.join(dataDir, "workspaces", unknown))).toBe(false);
    expect(getStore().openWorkspaceCount).toBe(0);
  });
});

describe("evicting workspace handles keeps data and never closes one in use", () => {
  it("with a cache of 2, five workspaces written then read back keep their rows", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "2" });
    const ids = Array.from({ length: 5 }, () => randomId("ws"));
    for (const id of ids) {
      await createWorkspaceFile(id);
      await auditWorkspace(id, { actor: { type: "system" }, action: "workspace.create", target: id });
    }
    expect(getStore().openWorkspaceCount).toBe(2);
    for (const id of ids) {
      expect(await workspaceChain(id)).toEqual({ ok: true, rows: 1 });
      const rows = await withWorkspace(id, (db) => db.db.select({ target: workspaceAuditLog.target }).from(workspaceAuditLog));
      expect(rows).toEqual([{ target: id }]);
    }
  });

  it("with a cache of 2, concurrent writers across five workspaces keep every chain whole", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "2" });
    const ids = Array.from({ length: 5 }, () => randomId("ws"));
    for (const id of ids) await createWorkspaceFile(id);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        auditWorkspace(ids[i % ids.length] as string, { actor: { type: "user", id: `u${i}` }, action: "workspace.create" }),
      ),
    );
    for (const id of ids) expect(await workspaceChain(id)).toEqual({ ok: true, rows: 12 });
  });

  it("a handle evicted while a callback still holds it stays open for that callback, then closes", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "2" });
    const [held, other1, other2] = [randomId("ws"), randomId("ws"), randomId("ws")];
    await createWorkspaceFile(held);

    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let handle: WorkspaceDb | undefined;
    const inFlight = withWorkspace(held, async (db) => {
      handle = db;
      entered();
      await gate;
      await db.transaction((tx) => tx.insert(workspaceAuditLog).values(auditRow(1)));
      return db.db.select({ seq: workspaceAuditLog.seq }).from(workspaceAuditLog);
    });
    await inside;
    for (const id of [other1, other2]) {
      await createWorkspaceFile(id);
      await withWorkspace(id, () => Promise.resolve());
    } // `held` is now the least recently used of three: evicted
    expect(getStore().openWorkspaceCount).toBe(2);

    release();
    await expect(inFlight).resolves.toEqual([{ seq: 1 }]);
    // Once its last user is done, the evicted handle is closed, not leaked.
    await vi.waitFor(() => expectFailedBecause(handle?.db.select().from(workspaceAuditLog), /is closed/));
    // And the workspace reopens with the row the held callback wrote.
    expect(await withWorkspace(held, (db) => db.db.$count(workspaceAuditLog))).toBe(1);
  });

  it("a request for a workspace evicted while in use joins its open handle instead of opening a second connection", async () => {
    useDataDir({ ENCLAVE_WORKSPACE_CACHE_SIZE: "1" });
    const [held, other] = [randomId("ws"), randomId("ws")];
    await createWorkspaceFile(held);
    await createWorkspaceFile(other);

    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let first: WorkspaceDb | undefined;
    const holding = withWorkspace(held, async (db) => {
      first = db;
      entered();
      await gate;
    });
    await inside;
    await withWorkspace(other, () => Promise.resolve()); // evicts `held` while it is in use
    const second = await withWorkspace(held, (db) => Promise.resolve(db));
    expect(second).toBe(first);
    release();
    await holding;
    // Back in the cache, so finishing the first request did not close the shared handle.
    expect(await withWorkspace(held, (db) => db.db.$count(workspaceAuditLog))).toBe(0);
  });

  it("closeStore then getStore reopens every workspace with its data", async () => {
    const dataDir = useDataDir();
    const ids = [randomId("ws"), randomId("ws")];
    for (const id of ids) {
      await createWorkspaceFile(id);
      await auditWorkspace(id, { actor: { type: "system" }, action: "workspace.create" });
    }
    await restart(dataDir);
    for (const id of ids) expect(await workspaceChain(id)).toEqual({ ok: true, rows: 1 });
  });
  it("closeStore resolves only when every workspace file is closed (WAL checkpointed and removed)", async () => {
    const dataDir = useDataDir();
    const ids = [randomId("ws"), randomId("ws"), randomId("ws")];
    for (const id of ids) {
      await createWorkspaceFile(id);
      await auditWorkspace(id, { actor: { type: "system" }, action: "workspace.create" });
    }
    const files = ids.map((id) => path.join(dataDir, "workspaces", id, "workspace.db"));
    expect(files.some((file) => fs.existsSync(`${file}-wal`))).toBe(true);
    // A slow disk: each workspace file takes a while to close.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the right `this`
    const close = Connection.prototype.close;
    const slowClose = vi.spyOn(Connection.prototype, "close").mockImplementation(async function (this: Connection) {
      if (this.file.endsWith("workspace.db")) await new Promise((resolve) => setTimeout(resolve, 100));
      return close.call(this);
    });
    await closeStore();
    slowClose.mockRestore();
    for (const file of files) {
      expect(fs.existsSync(`${file}-wal`), `${file}-wal`).toBe(false);
      expect(fs.existsSync(`${file}-shm`), `${file}-shm`).toBe(false);
    }
  });
});

function auditRow(seq: number): typeof workspaceAuditLog.$inferInsert {
  return { seq, at: Date.now(), actorType: "system", action: "workspace.create", details: "{}", prevHash: "0".repeat(64), hash: "x" };
}

describe("a workspace file exists only once the rows naming it committed", () => {
  it("a commit that fails leaves no file and no folder", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    const before = tree(dataDir);
    const id = randomId("ws");
    await expect(
      createWorkspaceFile(id, {
        init: (db) => db.transaction((tx) => appendAudit(tx, chainOf(id), { actor: { type: "system" }, action: "workspace.create" })),
        commit: () => Promise.reject(new Error("control transaction failed")),
      }),
    ).rejects.toThrow(/control transaction failed/);
    expect(tree(dataDir)).toEqual(before);
    await expect(withWorkspace(id, () => Promise.resolve())).rejects.toThrow(/does not exist/);
  });

  it("an init that fails leaves nothing either, and commit never runs", async () => {
    const dataDir = useDataDir();
    await getStore().control;
    const before = tree(dataDir);
    const commit = vi.fn(() => Promise.resolve());
    await expect(createWorkspaceFile(randomId("ws"), { init: () => Promise.reject(new Error("no")), commit })).rejects.toThrow("no");
    expect(commit).not.toHaveBeenCalled();
    expect(tree(dataDir)).toEqual(before);
  });

  it("after a crash mid-creation, the next start keeps a pending file whose row committed and removes one whose row did not", async () => {
    const dataDir = useDataDir();
    const control = await getControlDb();
    const [committed, abandoned] = [randomId("ws"), randomId("ws")];
    // What a crash between the control COMMIT and the rename leaves, and one before the COMMIT.
    for (const id of [committed, abandoned]) {
      await createWorkspaceFile(id, { init: (db) => db.transaction((tx) => appendAudit(tx, chainOf(id), { actor: { type: "system" }, action: "workspace.create" })) });
      fs.renameSync(path.join(dataDir, "workspaces", id), path.join(dataDir, "workspaces", `${id}.pending`));
    }
    await control.db.insert(workspaces).values({ id: committed, name: "Survivor", createdAt: Date.now(), createdBy: null });
    await restart(dataDir);
    await getStore().control;
    expect(fs.readdirSync(path.join(dataDir, "workspaces")).sort()).toEqual([committed]);
    expect(await workspaceChain(committed)).toMatchObject({ ok: true });
    await expect(withWorkspace(abandoned, () => Promise.resolve())).rejects.toThrow(/does not exist/);
  });
});
