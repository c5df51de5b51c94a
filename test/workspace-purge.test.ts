import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { memberships, oauthGrants, teamTokens, workspaces } from "@/db/control/schema";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "@/lib/audit/audit";
import { dropWorkspaceFile, getControlDb, withWorkspace, WorkspaceDroppedError } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { purgeDeletedWorkspaces } from "@/lib/lifecycle/purge";
import { deleteWorkspace } from "@/lib/lifecycle/workspace-deletion";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { liveGrant, ownerAccess, sessionCookieForUser, snapshotWorkspace, workspaceWithTokens } from "./api";
import { request, workspacePath } from "./harness";
import { controlAudit, DAY_MS, pathsUnder, refusalOf, restoreRequest } from "./lifecycle";
import { useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

/** A workspace with data written through its handle (so a -wal is on disk), a grant and tokens; deleted by its owner at `now`. */
async function deletedWorkspace(now = Date.now()) {
  const ws = await workspaceWithTokens();
  await createKnowledge(await ownerAccess(ws, "knowledge"), { title: "doomed", body: "text that must not survive", tags: [] });
  await liveGrant(ws);
  await deleteWorkspace(await ownerAccess(ws, "workspace:delete"), "Team", now);
  return ws;
}

const mentioning = (workspaceId: string) => pathsUnder(store.dataDir()).filter((entry) => entry.includes(workspaceId));

async function controlRowsOf(workspaceId: string) {
  const control = await getControlDb();
  return {
    workspace: await control.db.$count(workspaces, eq(workspaces.id, workspaceId)),
    memberships: await control.db.$count(memberships, eq(memberships.workspaceId, workspaceId)),
    tokens: await control.db.$count(teamTokens, eq(teamTokens.workspaceId, workspaceId)),
    grants: await control.db.$count(oauthGrants, eq(oauthGrants.workspaceId, workspaceId)),
  };
}

const GONE = { workspace: 0, memberships: 0, tokens: 0, grants: 0 };

describe("purging deleted workspaces", () => {
  it("leaves nothing before purgeAt, then no file, folder or control row of it, and every other workspace as it was", async () => {
    const now = Date.now();
    const kept = await workspaceWithTokens();
    await createKnowledge(await ownerAccess(kept, "knowledge"), { title: "kept", body: "stays", tags: [] });
    const doomed = await deletedWorkspace(now);
    expect(mentioning(doomed.workspaceId).length).toBeGreaterThan(1);

    expect(await purgeDeletedWorkspaces(now + 29 * DAY_MS)).toEqual({ due: 0, purged: 0 });
    expect(fs.existsSync(path.join(store.dataDir(), "workspaces", doomed.workspaceId, "workspace.db"))).toBe(true);

    expect(await purgeDeletedWorkspaces(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect(mentioning(doomed.workspaceId)).toEqual([]);
    expect(await controlRowsOf(doomed.workspaceId)).toEqual(GONE);
    expect(await refusalOf(await restoreRequest(doomed.workspaceId, await sessionCookieForUser(doomed.owner.id)))).toEqual({ status: 404, error: "not_found" });

    // The other workspace: its files, its rows, its data, its chain.
    expect(mentioning(kept.workspaceId)).toContain(path.join("workspaces", kept.workspaceId, "workspace.db"));
    expect((await request(workspacePath(kept.workspaceId, "/knowledge"), { token: kept.viewer })).status).toBe(200);
    expect(await withWorkspace(kept.workspaceId, (db) => verifyAuditChain(db.db, workspaceAuditLog))).toMatchObject({ ok: true });

    const purges = await controlAudit("workspace.purge");
    expect(purges).toHaveLength(1);
    expect(purges[0]).toMatchObject({ target: doomed.workspaceId, actorType: "system", actorId: "purge" });
    expect(JSON.parse(purges[0]!.details)).toMatchObject({ name: "Team", deletedWith: "owner", deletedBy: doomed.owner.id });
    const control = await getControlDb();
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: true });

    // Run again: nothing left to do.
    expect(await purgeDeletedWorkspaces(now + 32 * DAY_MS)).toEqual({ due: 0, purged: 0 });
    expect(await controlAudit("workspace.purge")).toHaveLength(1);
  });

  it("keeps the other workspace's files, its control rows and its data as they were", async () => {
    const kept = await workspaceWithTokens();
    const doomed = await deletedWorkspace();
    const keptData = await snapshotWorkspace(kept.workspaceId);
    const keptFiles = mentioning(kept.workspaceId);
    const keptRows = await controlRowsOf(kept.workspaceId);
    await purgeDeletedWorkspaces(Date.now() + 31 * DAY_MS);
    expect(mentioning(doomed.workspaceId)).toEqual([]);
    expect(mentioning(kept.workspaceId)).toEqual(keptFiles);
    expect(await controlRowsOf(kept.workspaceId)).toEqual(keptRows);
    // Only the control audit moved (the purge row): the workspace's own data and rows did not.
    const withoutAudit = (snapshot: string) => JSON.stringify({ ...(JSON.parse(snapshot) as Record<string, unknown>), controlAudit: undefined });
    expect(withoutAudit(await snapshotWorkspace(kept.workspaceId))).toBe(withoutAudit(keptData));
  });

  it("finishes after a crash that removed the files but not the row; the workspace answered 404 meanwhile", async () => {
    const doomed = await deletedWorkspace();
    await dropWorkspaceFile(doomed.workspaceId); // what the crashed run got done
    expect(mentioning(doomed.workspaceId)).toEqual([]);
    expect((await controlRowsOf(doomed.workspaceId)).workspace).toBe(1);
    expect(await refusalOf(await request(workspacePath(doomed.workspaceId, "/knowledge"), { cookie: await sessionCookieForUser(doomed.owner.id) }))).toEqual({
      status: 404,
      error: "not_found",
    });
    expect(await purgeDeletedWorkspaces(Date.now() + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect(await controlRowsOf(doomed.workspaceId)).toEqual(GONE);
    expect(await controlAudit("workspace.purge")).toHaveLength(1);
  });

  it("a run that fails removing the files reports it, keeps the row, and the next run finishes; other workspaces still purge", async () => {
    const stuck = await deletedWorkspace();
    const other = await deletedWorkspace();
    const stuckDir = path.join(store.dataDir(), "workspaces", stuck.workspaceId);
    const realRm = fs.rmSync;
    const failing = vi.spyOn(fs, "rmSync").mockImplementation((target, options) => {
      if (String(target) === stuckDir) throw Object.assign(new Error("EBUSY: resource busy"), { code: "EBUSY" });
      realRm(target, options);
    });
    await expect(purgeDeletedWorkspaces(Date.now() + 31 * DAY_MS)).rejects.toThrow(/purged 1 of 2 workspaces; 1 failed/);
    failing.mockRestore();
    expect(await controlRowsOf(other.workspaceId)).toEqual(GONE);
    expect((await controlRowsOf(stuck.workspaceId)).workspace).toBe(1);
    expect(await purgeDeletedWorkspaces(Date.now() + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect(mentioning(stuck.workspaceId)).toEqual([]);
    expect(await controlRowsOf(stuck.workspaceId)).toEqual(GONE);
  });

  it("a restored workspace is not purged", async () => {
    const ws = await deletedWorkspace();
    expect((await restoreRequest(ws.workspaceId, await sessionCookieForUser(ws.owner.id))).status).toBe(200);
    expect(await purgeDeletedWorkspaces(Date.now() + 31 * DAY_MS)).toEqual({ due: 0, purged: 0 });
    expect((await controlRowsOf(ws.workspaceId)).workspace).toBe(1);
    expect(mentioning(ws.workspaceId)).toContain(path.join("workspaces", ws.workspaceId, "workspace.db"));
  });
});

describe("dropping a workspace file", () => {
  it("waits for a request still using the handle, refuses new ones meanwhile, then removes the folder", async () => {
    const ws = await workspaceWithTokens();
    const dir = path.join(store.dataDir(), "workspaces", ws.workspaceId);
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const inFlight = withWorkspace(ws.workspaceId, async (db) => {
      entered();
      await gate;
      return db.db.$count(workspaceAuditLog);
    });
    await inside;
    const dropping = dropWorkspaceFile(ws.workspaceId);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.existsSync(path.join(dir, "workspace.db"))).toBe(true);
    await expect(withWorkspace(ws.workspaceId, () => Promise.resolve())).rejects.toBeInstanceOf(WorkspaceDroppedError);
    release();
    expect(await inFlight).toBe(1);
    await dropping;
    expect(fs.existsSync(dir)).toBe(false);
    // Idempotent: nothing left to drop is no error.
    await expect(dropWorkspaceFile(ws.workspaceId)).resolves.toBeUndefined();
    await expect(dropWorkspaceFile("../../etc")).rejects.toThrow(/invalid workspace id/);
  });
});
