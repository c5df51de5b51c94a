import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closeStore, getStore } from "@/lib/db/store";
import { clearDamaged, isDamaged, storageHealth } from "@/lib/db/storage-health";
import { operatorStatus } from "@/lib/operator/status";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { logger } from "@/lib/log/logger";
import { workspaceWithTokens } from "./api";
import { jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { mcpRequest } from "./mcp-client";
import { useTempStore } from "./store";
import { runEnclave } from "./cli-helpers";

/**
 * A damaged workspace file: a copy of a real one with bytes flipped in its pages, put in place
 * while no handle is open, so the damage is read from disk as SQLCipher's page check meets it.
 */
const store = useTempStore({ ENCLAVE_SYNC_RATE_LIMIT_PER_MINUTE: "1000000" });
beforeEach(() => resetRateLimits());
afterEach(() => vi.restoreAllMocks());

const DAMAGED_MESSAGE = "This workspace's storage is damaged; the operator has been told.";
const PAGE = 4096;

async function seededWorkspace() {
  const fx = await workspaceWithTokens();
  for (let i = 0; i < 60; i++) {
    const response = await request(workspacePath(fx.workspaceId, "/knowledge"), { token: fx.member, body: { title: `Runbook ${i}`, body: `step ${i} `.repeat(400), tags: ["ops"] } });
    expect(response.status).toBe(201);
  }
  return fx;
}

/** Closes every handle, then swaps in a copy of the file with `flip` applied (a new inode, as a copy put in place has). */
async function damage(workspaceId: string, flip: (bytes: Buffer) => void): Promise<{ file: string; original: Buffer }> {
  const file = getStore().workspaceFile(workspaceId);
  await closeStore();
  expect(fs.existsSync(`${file}-wal`)).toBe(false);
  const original = fs.readFileSync(file);
  const copy = Buffer.from(original);
  flip(copy);
  replaceFile(file, copy);
  return { file, original };
}

function replaceFile(file: string, bytes: Buffer): void {
  fs.writeFileSync(`${file}.swap`, bytes, { mode: 0o600 });
  fs.renameSync(`${file}.swap`, file);
}

/** Bytes flipped in every seventh page from the 20th on: the middle of the file, not its header. */
const middlePages = (bytes: Buffer) => {
  expect(bytes.length / PAGE).toBeGreaterThan(60);
  for (let page = 20; page < bytes.length / PAGE - 1; page += 7) for (let i = 100; i < 200; i++) bytes[page * PAGE + i]! ^= 0xff;
};
/** The first page (SQLCipher's salt and the schema root): the file does not open. */
const firstPage = (bytes: Buffer) => {
  for (let i = 100; i < 200; i++) bytes[i]! ^= 0xff;
};

async function expectDamaged(response: Response) {
  expect(response.status).toBe(503);
  const body = await jsonOf(response);
  expect(Object.keys(body).sort()).toEqual(["error", "message", "requestId"]);
  expect(body).toMatchObject({ error: "storage_damaged", message: DAMAGED_MESSAGE });
  expect(JSON.stringify(body)).not.toMatch(/SQLITE|sqlite|malformed|at \w+ \(/);
}

const health = async () => jsonOf<{ status: string; reasons?: { code: string; message: string }[] }>(await request("/api/health", { headers: { origin: ORIGIN } }));
const damageLines = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter((call) => String(call[1]).includes("storage damaged")).length;

describe("a workspace file damaged in its middle pages", () => {
  it("answers 503 on every surface, logs once, leaves the other workspace serving, and serves again once the file is replaced", async () => {
    const damaged = await seededWorkspace();
    const healthy = await workspaceWithTokens();
    const { file, original } = await damage(damaged.workspaceId, middlePages);
    const errors = vi.spyOn(logger, "error");

    const list = () => request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.viewer, query: { limit: "100" } });
    for (let i = 0; i < 4; i++) {
      await expectDamaged(await list());
      await expectDamaged(await request(workspacePath(damaged.workspaceId, "/search"), { token: damaged.viewer, query: { q: "runbook" } }));
      await expectDamaged(await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.member, body: { title: "More", body: "text", tags: [] } }));
    }
    // An event stream is refused before it starts, not a 200 that ends at once.
    await expectDamaged(await request(workspacePath(damaged.workspaceId, "/events/stream"), { token: damaged.viewer }));
    // The MCP endpoint says the same, in the error shape, and does not hang.
    await expectDamaged(await mcpRequest({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "search", arguments: { query: "runbook" } } }, { token: damaged.viewer }));

    // Every other workspace serves on, reads and writes.
    expect((await request(workspacePath(healthy.workspaceId, "/knowledge"), { token: healthy.member, body: { title: "Fine", body: "here", tags: [] } })).status).toBe(201);
    expect((await request(workspacePath(healthy.workspaceId, "/search"), { token: healthy.viewer, query: { q: "fine" } })).status).toBe(200);

    // One line for the damaged workspace, however many requests met it; no "unhandled" 500s.
    expect(damageLines(errors)).toBe(1);
    expect(errors.mock.calls.map((call) => String(call[1])).filter((line) => !line.includes("storage damaged"))).toEqual([]);

    const degraded = await health();
    expect(degraded).toMatchObject({ status: "degraded", reasons: [{ code: "storage_damaged" }] });
    expect(JSON.stringify(degraded)).not.toContain(damaged.workspaceId);
    const [entry, ...others] = storageHealth().damaged;
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ workspaceId: damaged.workspaceId, reason: expect.stringContaining("SQLITE_CORRUPT") as unknown });
    // The operator status names it (health, public, does not).
    expect((await operatorStatus()).storage.damaged).toEqual([entry]);

    // A restore puts a good file in place (a new inode): the registry notices, the workspace serves again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    replaceFile(file, original);
    const restored = await list();
    expect(restored.status).toBe(200);
    expect((await jsonOf<{ items: unknown[] }>(restored)).items).toHaveLength(60);
    expect(await health()).toEqual({ status: "ok" });
  });

  it("is no 503 for anyone who cannot see the workspace, and nothing sent to one workspace marks another", async () => {
    const damaged = await seededWorkspace();
    const other = await workspaceWithTokens();
    await damage(damaged.workspaceId, middlePages);
    await expectDamaged(await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.viewer, query: { limit: "100" } }));
    // Another workspace's token on the damaged workspace's path: 404, as for any workspace it cannot see.
    const foreign = await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: other.viewer });
    expect(foreign.status).toBe(404);
    expect(await jsonOf(foreign)).toMatchObject({ error: "not_found" });
    // Hostile search input and ids in the healthy workspace are client errors there, never storage faults.
    for (const q of ['"', "NEAR(", "*", "title:", "^", "a OR", "\u0000", "x".repeat(500), `${damaged.workspaceId}`]) {
      const response = await request(workspacePath(other.workspaceId, "/search"), { token: other.viewer, query: { q } });
      expect(response.status, q).toBeLessThan(500);
    }
    expect((await request(workspacePath(other.workspaceId, `/knowledge/${damaged.workspaceId}`), { token: other.viewer })).status).toBe(404);
    expect(isDamaged(other.workspaceId)).toBe(false);
    expect(storageHealth().damaged.map((entry) => entry.workspaceId)).toEqual([damaged.workspaceId]);
  });
});

describe("a workspace file damaged in its first page", () => {
  it("does not open: 503 and one log line, and clearDamaged lets a replaced file be tried again", async () => {
    const damaged = await seededWorkspace();
    const { file, original } = await damage(damaged.workspaceId, firstPage);
    const errors = vi.spyOn(logger, "error");
    for (let i = 0; i < 3; i++) await expectDamaged(await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.viewer }));
    expect(damageLines(errors)).toBe(1);
    expect(storageHealth().damaged[0]?.reason).toContain("SQLITE_NOTADB");
    // Put back in place over the same inode (a copy, not a rename): only clearDamaged tells the registry.
    fs.writeFileSync(file, original);
    await expectDamaged(await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.viewer }));
    expect(clearDamaged(damaged.workspaceId)).toBe(true);
    expect((await request(workspacePath(damaged.workspaceId, "/knowledge"), { token: damaged.viewer })).status).toBe(200);
  });
});

describe("enclave audit verify on a damaged file", () => {
  const enclave = (...args: string[]) => runEnclave(store.dataDir(), args, { env: { LOG_LEVEL: "silent" } });

  it("--all reports DAMAGED with the reason and goes on to the next file, exit 1; --workspace prints the same line, no stack", async () => {
    const first = await workspaceWithTokens();
    const damaged = await seededWorkspace();
    const last = await workspaceWithTokens();
    await damage(damaged.workspaceId, middlePages);
    // Every page is checked against its HMAC, though the audit rows themselves may read fine.
    const all = enclave("audit", "verify", "--all");
    expect(all.status).toBe(1);
    const lines = all.stdout.split("\n");
    expect(lines[0]).toMatch(/^audit chain of control\.db: intact/);
    expect(lines.some((line) => line.startsWith(`audit chain of workspace ${damaged.workspaceId}: DAMAGED (`))).toBe(true);
    expect(lines.find((line) => line.includes("DAMAGED"))).toMatch(/DAMAGED \(\d+ pages fail their HMAC check \(page 21, 28, 35, 42, 49, …\)\)$/);
    for (const id of [first.workspaceId, last.workspaceId]) expect(lines.some((line) => line.startsWith(`audit chain of workspace ${id}: intact`))).toBe(true);
    expect(lines.at(-1)).toBe("4 chains checked, 1 broken or damaged");
    expect(all.stderr).toBe("");

    const one = enclave("audit", "verify", "--workspace", damaged.workspaceId);
    expect(one.status).toBe(1);
    expect(one.stdout).toMatch(new RegExp(`^audit chain of workspace ${damaged.workspaceId}: DAMAGED \\(\\d+ pages fail their HMAC check`));
    expect(`${one.stdout}${one.stderr}`).not.toMatch(/at \w+ \(|Failed query|malformed/);

    const healthy = enclave("audit", "verify", "--all");
    expect(healthy.stdout).toContain(`workspace ${last.workspaceId}: intact`);
    expect(enclave("audit", "verify", "--all", "--workspace", last.workspaceId).status).toBe(2);

    // A first page that does not decrypt: the file does not even open, and says so the same way.
    await damage(first.workspaceId, firstPage);
    const unopenable = enclave("audit", "verify", "--workspace", first.workspaceId);
    expect(unopenable.status).toBe(1);
    expect(unopenable.stdout).toBe(`audit chain of workspace ${first.workspaceId}: DAMAGED (its pages do not decrypt: damaged, or written with another key (SQLITE_NOTADB))`);
    // Each run starts the CLI (tsx) afresh: seconds apiece on a busy machine.
  }, 120_000);
});
