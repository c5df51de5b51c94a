import { asc } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { workspaceAuditLog } from "@/lib/audit/audit";
import { auditSigner, publicKeyPem } from "@/lib/audit/checkpoint";
import { getStore, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sessionCookieForUser, userInWorkspace, workspaceWithTokens } from "./api";
import { readBundle, runVerifier } from "./evidence-bundle";
import { jsonOf, request } from "./harness";
import { useTempStore } from "./store";

useTempStore();

const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
const evidencePath = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/audit/evidence`;
const period = { from: today, to: today };
const exportActions = (workspaceId: string) =>
  withWorkspace(workspaceId, async (db) =>
    (await db.db.select().from(workspaceAuditLog).orderBy(asc(workspaceAuditLog.seq))).filter((row) => row.action === "audit.evidence_export"),
  );

describe("GET /api/workspaces/{workspaceId}/audit/evidence", () => {
  it("gives an owner and an admin the workspace's signed bundle as a download, which the standalone verifier accepts", async () => {
    const ws = await workspaceWithTokens();
    const admin = await userInWorkspace(ws.workspaceId, "admin");
    for (const cookie of [await sessionCookieForUser(ws.owner.id), admin.cookie]) {
      const response = await request(evidencePath(ws.workspaceId), { cookie, query: period });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/zip");
      expect(response.headers.get("content-disposition")).toBe(`attachment; filename="evidence-${ws.workspaceId}-${today}-${today}.zip"`);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get("content-length"))).toBe(bytes.length);
      expect((await readBundle(bytes)).map(([name]) => name)).toEqual(["manifest.json", "rows.jsonl", "signature.json"]);
      expect(runVerifier(bytes, publicKeyPem(auditSigner(getStore().masterKey).publicKey)).status).toBe(0);
    }
    const exports = await exportActions(ws.workspaceId);
    expect(exports.map((row) => row.actorId)).toEqual([ws.owner.id, admin.user.id]);
  });

  it("refuses a member (403 naming the scope), a person from elsewhere and a made-up workspace (404), and no session (401), exporting nothing", async () => {
    const ws = await workspaceWithTokens();
    const other = await workspaceWithTokens();
    const member = await userInWorkspace(ws.workspaceId, "member");
    const outsider = await sessionCookieForUser(other.owner.id);
    const denied = await request(evidencePath(ws.workspaceId), { cookie: member.cookie, query: period });
    expect(denied.status).toBe(403);
    expect(await jsonOf(denied)).toMatchObject({ error: "insufficient_scope" });
    expect((await request(evidencePath(ws.workspaceId), { cookie: outsider, query: period })).status).toBe(404);
    expect((await request(evidencePath("ws_00000000000000000000000000000000"), { cookie: outsider, query: period })).status).toBe(404);
    expect((await request(evidencePath(ws.workspaceId), { query: period })).status).toBe(401);
    // A team token, even an admin's, is not a portal session.
    expect((await request(evidencePath(ws.workspaceId), { token: ws.admin, query: period })).status).toBe(401);
    expect(await exportActions(ws.workspaceId)).toEqual([]);
  });

  it("answers a bad period with a 400 in the error shape", async () => {
    const ws = await workspaceWithTokens();
    const cookie = await sessionCookieForUser(ws.owner.id);
    const cases: [Record<string, string>, string][] = [
      [{}, "from"],
      [{ from: today }, "to"],
      [{ from: "2026-02-30", to: today }, "from"],
      [{ from: "2024-01-01", to: today }, "to"],
      [{ from: today, to: tomorrow }, "to"],
      [{ from: "2026-03-01", to: "2026-02-01" }, "to"],
    ];
    for (const [query, field] of cases) {
      const response = await request(evidencePath(ws.workspaceId), { cookie, query });
      expect(response.status, JSON.stringify(query)).toBe(400);
      const body = await jsonOf<{ error: string; message: string; requestId: string }>(response);
      expect(body).toMatchObject({ error: "invalid_request", message: expect.stringMatching(new RegExp(`^${field}: `)) as string });
    }
    expect(await exportActions(ws.workspaceId)).toEqual([]);
  });

  it("brakes a person at 30 bundles an hour", async () => {
    resetRateLimits();
    const ws = await workspaceWithTokens();
    const cookie = await sessionCookieForUser(ws.owner.id);
    for (let i = 0; i < 30; i++) await (await request(evidencePath(ws.workspaceId), { cookie, query: period })).arrayBuffer();
    const braked = await request(evidencePath(ws.workspaceId), { cookie, query: period });
    expect(braked.status).toBe(429);
    expect(Number(braked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("survives a client that hangs up mid-download", async () => {
    const ws = await workspaceWithTokens();
    const response = await request(evidencePath(ws.workspaceId), { cookie: await sessionCookieForUser(ws.owner.id), query: period });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    // The server is still answering.
    const again = await request(evidencePath(ws.workspaceId), { cookie: await sessionCookieForUser(ws.owner.id), query: period });
    expect(again.status).toBe(200);
    expect((await again.arrayBuffer()).byteLength).toBe(Number(again.headers.get("content-length")));
  });
});
