import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sessions } from "@/db/control/schema";
import { getConfig, setConfigForTests } from "@/lib/config";
import { createSession } from "@/lib/auth/sessions";
import { createUser } from "@/lib/auth/users";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { storageFault, storageHealth, StorageFullError } from "@/lib/db/storage-health";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { logger } from "@/lib/log/logger";
import { sessionCookieForUser, workspaceWithTokens } from "./api";
import { jsonOf, ORIGIN, request, workspacePath, type RequestOptions } from "./harness";
import { mcpRequest } from "./mcp-client";
import { testConfig, useTempStore } from "./store";

/**
 * A full disk, simulated per database with `PRAGMA max_page_count` (the database may not grow
 * past its current size, exactly as when the disk has no room for another page), through the
 * route handlers as a client meets it.
 */
useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "1000000", ENCLAVE_AUTH_RATE_LIMIT_PER_MINUTE: "1000000", ENCLAVE_LOW_DISK_MB: "1" });
beforeEach(() => resetRateLimits());
afterEach(() => vi.restoreAllMocks());

const FULL_MESSAGE = "The server's disk is full; nothing was saved. The operator has been told.";
const fromPortal = (pathname: string, options: RequestOptions = {}) => request(pathname, { ...options, headers: { origin: ORIGIN, ...options.headers } });

/** ~60 KB of distinct words: more than the free room in any page, so storing it needs new pages. */
const bigBody = (seed: string) => Array.from({ length: 6000 }, (_, i) => `${seed}${i.toString(36)}`).join(" ");

const pageCount = async (db: { rows: (sql: string) => Promise<Record<string, unknown>[]> }) => Number((await db.rows("PRAGMA page_count"))[0]?.page_count);
/** The database may not grow past its size now (0 lifts the cap: SQLite's default maximum). */
const capWorkspace = (workspaceId: string, pages: number | "now") =>
  withWorkspace(workspaceId, async (db) => void (await db.rows(`PRAGMA max_page_count = ${pages === "now" ? await pageCount(db) : pages}`)));
const capControl = async (pages: number | "now") => {
  const control = await getControlDb();
  await control.rows(`PRAGMA max_page_count = ${pages === "now" ? await pageCount(control) : pages}`);
};
const UNCAPPED = 1_073_741_823;

const health = async () => jsonOf<{ status: string; reasons?: { code: string; message: string }[] }>(await fromPortal("/api/health"));
const storageFullLines = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter((call) => String(call[1]).startsWith("storage full")).length;

async function expectStorageFull(response: Response) {
  expect(response.status).toBe(507);
  const body = await jsonOf(response);
  expect(Object.keys(body).sort()).toEqual(["error", "message", "requestId"]);
  expect(body).toMatchObject({ error: "storage_full", message: FULL_MESSAGE });
  // No SQL, driver code or stack reaches the client.
  expect(JSON.stringify(body)).not.toMatch(/SQLITE|sqlite|at \w+ \(/);
}

describe("a full workspace database", () => {
  it("answers a knowledge write 507, keeps what was saved, serves reads, says degraded once, and recovers when space returns", async () => {
    const fx = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    const knowledge = workspacePath(fx.workspaceId, "/knowledge");
    const saved = await request(knowledge, { token: fx.member, body: { title: "Before the disk filled", body: "kept safe", tags: [] } });
    expect(saved.status).toBe(201);
    const savedId = (await jsonOf<{ entry: { id: string } }>(saved)).entry.id;
    const auditRows = () => withWorkspace(fx.workspaceId, async (db) => Number((await db.rows("SELECT count(*) AS n FROM audit_log"))[0]?.n));
    const auditBefore = await auditRows();
    expect(await health()).toEqual({ status: "ok" });

    await capWorkspace(fx.workspaceId, "now");
    const errors = vi.spyOn(logger, "error");
    for (let i = 0; i < 5; i++) {
      await expectStorageFull(await request(knowledge, { token: fx.member, body: { title: `Too big ${i}`, body: bigBody(`w${i}x`), tags: [] } }));
    }
    // One line for the episode, not one per request.
    expect(storageFullLines(errors)).toBe(1);
    expect(errors.mock.calls.filter((call) => String(call[1]).includes("unhandled"))).toEqual([]);

    // Nothing half-written: the entry and audit row of each refused write were rolled back together.
    expect(await auditRows()).toBe(auditBefore);
    const list = await request(knowledge, { token: fx.viewer });
    expect(list.status).toBe(200);
    expect((await jsonOf<{ items: { id: string }[] }>(list)).items.map((item) => item.id)).toEqual([savedId]);
    const read = await request(workspacePath(fx.workspaceId, `/knowledge/${savedId}`), { token: fx.viewer });
    expect(read.status).toBe(200);
    expect(await jsonOf(read)).toMatchObject({ body: "kept safe" });
    const search = await request(workspacePath(fx.workspaceId, "/search"), { token: fx.viewer, query: { q: "safe" } });
    expect(search.status).toBe(200);

    const degraded = await health();
    expect(degraded.status).toBe("degraded");
    expect(degraded.reasons?.map((reason) => reason.code)).toEqual(["storage_full"]);
    // Anyone may read /api/health: it says what is wrong, never which workspace.
    expect(JSON.stringify(degraded)).not.toContain(fx.workspaceId);
    expect(storageHealth().diskFull).toMatchObject({ databases: [fx.workspaceId] });

    // A write that commits elsewhere proves nothing about this database: still degraded.
    expect((await request(workspacePath(other.workspaceId, "/knowledge"), { token: other.member, body: { title: "Elsewhere", body: "fine", tags: [] } })).status).toBe(201);
    expect((await health()).status).toBe("degraded");

    // Space again: the same write succeeds, and its commit ends the episode.
    await capWorkspace(fx.workspaceId, UNCAPPED);
    const retried = await request(knowledge, { token: fx.member, body: { title: "Too big 0", body: bigBody("w0x"), tags: [] } });
    expect(retried.status).toBe(201);
    expect(await health()).toEqual({ status: "ok" });
    expect(storageHealth().diskFull).toBeNull();
  });

  it("answers an artifact upload 507 and stores it once there is room", async () => {
    const fx = await workspaceWithTokens();
    const artifact = workspacePath(fx.workspaceId, "/artifacts/build.bin");
    const bytes = Buffer.alloc(200_000, 7);
    const put = () => request(artifact, { token: fx.member, method: "PUT", rawBody: bytes, headers: { "content-type": "application/octet-stream" } });
    await capWorkspace(fx.workspaceId, "now");
    await expectStorageFull(await put());
    expect((await request(artifact, { token: fx.viewer })).status).toBe(404);
    await capWorkspace(fx.workspaceId, UNCAPPED);
    expect((await put()).status).toBeLessThan(300);
    const stored = await request(artifact, { token: fx.viewer });
    expect(stored.status).toBe(200);
    expect(Buffer.from(await stored.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("answers an MCP write with a tool error saying the same, and accepts it once there is room", async () => {
    const fx = await workspaceWithTokens();
    await capWorkspace(fx.workspaceId, "now");
    const call = async (id: number, name: string, args: Record<string, unknown>) => {
      const response = await mcpRequest({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }, { token: fx.member });
      expect(response.status).toBe(200);
      return (await jsonOf<{ result: { isError?: boolean; content: { text: string }[] } }>(response)).result;
    };
    // The call's own audit row is small (its arguments are capped) and still fits; the entry does not.
    const refused = await call(1, "remember", { title: "Too big", body: bigBody("m") });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toBe(`storage_full: ${FULL_MESSAGE}`);
    await capWorkspace(fx.workspaceId, UNCAPPED);
    const written = await call(2, "remember", { title: "Fits now", body: bigBody("m") });
    expect(written.isError).toBeUndefined();
  });
});

describe("a full control.db", () => {
  it("refuses a sign-in 507 (it writes a session) while signed-in reads and token reads go on", async () => {
    const password = "correct horse battery";
    const user = await createUser({ email: "full@example.com", password });
    const fx = await workspaceWithTokens();
    const cookie = await sessionCookieForUser(fx.owner.id);
    const control = await getControlDb();
    // Due for its lastSeenAt touch: a write the read must not depend on.
    await control.db.update(sessions).set({ lastSeenAt: Date.now() - 120_000 }).where(eq(sessions.userId, fx.owner.id));

    await capControl("now");
    // Fill the last free room in the sessions table, so the sign-in's session needs a page.
    let filled = false;
    for (let i = 0; i < 5000 && !filled; i++) {
      filled = await createSession(user.id).then(
        () => false,
        (error: unknown) => {
          expect(storageFault(error)).toBeInstanceOf(StorageFullError);
          return true;
        },
      );
    }
    expect(filled).toBe(true);

    await expectStorageFull(await fromPortal("/api/auth/sign-in", { body: { email: "full@example.com", password } }));
    expect((await fromPortal("/api/workspaces", { cookie })).status).toBe(200);
    expect((await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.viewer })).status).toBe(200);
    expect(await health()).toMatchObject({ status: "degraded", reasons: [{ code: "storage_full" }] });

    await capControl(UNCAPPED);
    const signedIn = await fromPortal("/api/auth/sign-in", { body: { email: "full@example.com", password } });
    expect(signedIn.status).toBe(200);
    expect(await health()).toEqual({ status: "ok" });
  });
});

describe("the mapping", () => {
  it("turns ENOSPC from a plain file write into 507, and leaves other errors alone", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(storageFault(enospc)).toBeInstanceOf(StorageFullError);
    const other = Object.assign(new Error("EACCES"), { code: "EACCES" });
    expect(storageFault(other)).toBe(other);
    const constraint = Object.assign(new Error("SQLITE_CONSTRAINT"), { code: "SQLITE_CONSTRAINT" });
    expect(storageFault(constraint, { owner: { kind: "control" }, file: "/nowhere" })).toBe(constraint);
    expect(storageHealth().diskFull).toMatchObject({ databases: ["files"] });
  });

  it("says low_disk_space below the threshold, reads an I/O error then as the disk, and ends that episode once space is back", async () => {
    const dataDir = getConfig().dataDir;
    setConfigForTests(testConfig(dataDir, { ENCLAVE_LOW_DISK_MB: String(1024 * 1024 * 1024) }));
    expect(await health()).toMatchObject({ status: "degraded", reasons: [{ code: "low_disk_space" }] });
    const ioerr = Object.assign(new Error("SQLITE_IOERR: disk I/O error"), { code: "SQLITE_IOERR" });
    expect(storageFault(ioerr, { owner: { kind: "control" }, file: "/nowhere" })).toBeInstanceOf(StorageFullError);
    expect((await health()).reasons?.map((reason) => reason.code)).toEqual(["storage_full", "low_disk_space"]);
    // The operator freed space (here: the threshold came down below what is free).
    setConfigForTests(testConfig(dataDir, { ENCLAVE_LOW_DISK_MB: "1" }));
    expect(await health()).toEqual({ status: "ok" });
    // On a roomy disk an I/O error is no full disk.
    expect(storageFault(ioerr, { owner: { kind: "control" }, file: "/nowhere" })).toBe(ioerr);
  });
});
