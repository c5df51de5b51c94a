import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { authorize } from "@/lib/access/authorize";
import { listTeamTokens } from "@/lib/access/tokens";
import { controlAuditLog, verifyAuditChain } from "@/lib/audit/audit";
import { deriveControlKey } from "@/lib/crypto/keys";
import { isWellFormedSecret, mintSecret } from "@/lib/crypto/secrets";
import { sha256Hex } from "@/lib/crypto/secrets";
import { closeStore, getControlDb, getStore } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { decryptedSqlcipherPages, sessionCookieForUser, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { acceptFromAnswer } from "./invitations";
import { useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

type Member = { userId: string; email: string; role: string };
type Auth = { token?: string; cookie?: string };

async function setup() {
  const ws = await workspaceWithTokens();
  const ownerCookie = await sessionCookieForUser(ws.owner.id);
  const adminUser = await userInWorkspace(ws.workspaceId, "admin");
  const viewerUser = await userInWorkspace(ws.workspaceId, "viewer");
  const members = workspacePath(ws.workspaceId, "/members");
  const member = (userId: string) => `${members}/${encodeURIComponent(userId)}`;
  return {
    ...ws,
    ownerCookie,
    adminUser,
    viewerUser,
    setRole: (auth: Auth, userId: string, role: string) => request(member(userId), { ...auth, method: "PATCH", body: { role } }),
    remove: (auth: Auth, userId: string) => request(member(userId), { ...auth, method: "DELETE" }),
    add: (auth: Auth, email: string, role: string) => request(members, { ...auth, body: { email, role } }),
    list: async () => (await jsonOf<{ items: Member[] }>(await request(members, { cookie: adminUser.cookie }))).items,
  };
}

async function expectRefused(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect((await jsonOf(response)).error).toBe(error);
}

describe("members", () => {
  it("the last owner can be neither demoted nor removed (409); with a second owner, either can step down", async () => {
    const fx = await setup();
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const role of ["admin", "member", "viewer"]) await expectRefused(await fx.setRole({ cookie: fx.ownerCookie }, fx.owner.id, role), 409, "last_owner");
    await expectRefused(await fx.remove({ cookie: fx.ownerCookie }, fx.owner.id), 409, "last_owner");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);

    expect((await fx.setRole({ cookie: fx.ownerCookie }, fx.adminUser.user.id, "owner")).status).toBe(200);
    expect((await fx.setRole({ cookie: fx.ownerCookie }, fx.owner.id, "viewer")).status).toBe(200);
    await expectRefused(await fx.remove({ cookie: fx.adminUser.cookie }, fx.adminUser.user.id), 409, "last_owner");
    expect((await fx.list()).filter((m) => m.role === "owner").map((m) => m.userId)).toEqual([fx.adminUser.user.id]);
  });

  it("an admin (user or token) cannot make an owner, nor change or remove one (403)", async () => {
    const fx = await setup();
    const before = await snapshotWorkspace(fx.workspaceId);
    for (const auth of [{ cookie: fx.adminUser.cookie }, { token: fx.admin }]) {
      await expectRefused(await fx.setRole(auth, fx.viewerUser.user.id, "owner"), 403, "role_exceeds_yours");
      await expectRefused(await fx.setRole(auth, fx.adminUser.user.id, "owner"), 403, "role_exceeds_yours");
      await expectRefused(await fx.setRole(auth, fx.owner.id, "admin"), 403, "role_exceeds_yours");
      await expectRefused(await fx.remove(auth, fx.owner.id), 403, "role_exceeds_yours");
      const outsider = await userInWorkspace(fx.workspaceId, null);
      await expectRefused(await fx.add(auth, outsider.user.email, "owner"), 403, "role_exceeds_yours");
    }
    const members = await fx.list();
    expect(members.find((m) => m.userId === fx.owner.id)?.role).toBe("owner");
    const membersIn = (snapshot: string) => (JSON.parse(snapshot) as { members: unknown }).members;
    expect(membersIn(await snapshotWorkspace(fx.workspaceId))).toEqual(membersIn(before));
    // Up to their own role is fine.
    expect((await fx.setRole({ cookie: fx.adminUser.cookie }, fx.viewerUser.user.id, "admin")).status).toBe(200);
  });

  it("adding by email invites: an unknown email gets the same answer as an account; a member again is 409; bad input 400", async () => {
    const fx = await setup();
    const before = await snapshotWorkspace(fx.workspaceId);
    await expectRefused(await fx.add({ cookie: fx.adminUser.cookie }, fx.viewerUser.user.email, "member"), 409, "already_member");
    await expectRefused(await fx.add({ cookie: fx.adminUser.cookie }, ` ${fx.viewerUser.user.email.toUpperCase()} `, "member"), 409, "already_member");
    await expectRefused(await fx.add({ cookie: fx.adminUser.cookie }, "not an email", "viewer"), 400, "invalid_request");
    await expectRefused(await fx.add({ cookie: fx.ownerCookie }, "someone@example.com", "owner"), 400, "owner_not_invitable");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);

    const newcomer = await userInWorkspace(fx.workspaceId, null);
    const added = await fx.add({ token: fx.admin }, newcomer.user.email, "member");
    expect(added.status).toBe(201);
    const body = await jsonOf<{ invitation: { email: string; role: string }; mailed: boolean; link: string }>(added);
    expect(body).toMatchObject({ invitation: { email: newcomer.user.email, role: "member" }, mailed: false });
    // Invited, not yet a member: nobody joins a workspace without accepting.
    expect((await fx.list()).some((m) => m.userId === newcomer.user.id)).toBe(false);
    await expectRefused(await fx.remove({ cookie: fx.adminUser.cookie }, "usr_" + "0".repeat(32)), 404, "not_found");
  });

  it("audits every membership change in control.db, and the chain stays valid", async () => {
    const fx = await setup();
    const newcomer = await userInWorkspace(fx.workspaceId, null);
    await acceptFromAnswer(await fx.add({ cookie: fx.adminUser.cookie }, newcomer.user.email, "viewer"), newcomer.cookie);
    await fx.setRole({ cookie: fx.adminUser.cookie }, newcomer.user.id, "member");
    await fx.remove({ token: fx.admin }, newcomer.user.id);
    const control = await getControlDb();
    const rows = (await control.db.select().from(controlAuditLog)).filter((row) => row.target === newcomer.user.id);
    expect(rows.map((row) => [row.action, row.actorType])).toEqual([
      ["member.add", "user"],
      ["member.role_change", "user"],
      ["member.remove", "token"],
    ]);
    expect(JSON.parse(rows[1]!.details)).toEqual({ workspaceId: fx.workspaceId, from: "viewer", to: "member" });
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: true });
  });
});

describe("team tokens at rest", () => {
  it("are enc_ + 43 base64url + a 6-character checksum that rejects every one-character change", () => {
    for (let n = 0; n < 20; n++) {
      const token = mintSecret("teamToken").secret;
      expect(token).toMatch(/^enc_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
      expect(token).toHaveLength(4 + 43 + 6);
      expect(isWellFormedSecret("teamToken", token)).toBe(true);
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      for (let i = 0; i < token.length; i++) {
        for (const replacement of [alphabet[(alphabet.indexOf(token[i]!) + 1) % 62]!, "-", "Z"]) {
          if (replacement === token[i]) continue;
          const changed = token.slice(0, i) + replacement + token.slice(i + 1);
          expect(isWellFormedSecret("teamToken", changed), `${i}: ${changed}`).toBe(false);
        }
      }
      expect(isWellFormedSecret("teamToken", token + "A")).toBe(false);
      expect(isWellFormedSecret("teamToken", token.slice(0, -1))).toBe(false);
      expect(isWellFormedSecret("teamToken", ` ${token}`)).toBe(false);
    }
  });

  it("are stored only as SHA-256: the token is in no control.db row, page or byte; list and audit never carry it", async () => {
    const fx = await setup();
    const issued = await jsonOf<{ token: string; summary: { id: string } }>(
      await request(workspacePath(fx.workspaceId, "/tokens"), { cookie: fx.adminUser.cookie, body: { name: "ci", role: "member" } }),
    );
    const revoke = await request(workspacePath(fx.workspaceId, `/tokens/${encodeURIComponent(issued.summary.id)}`), { cookie: fx.adminUser.cookie, method: "DELETE" });
    expect(revoke.status).toBe(204);
    const secrets = [issued.token, fx.viewer, fx.member, fx.admin];

    const listed = JSON.stringify(await listTeamTokens(await authorize({ kind: "user", userId: fx.owner.id }, fx.workspaceId, "tokens")));
    expect(listed).not.toContain(sha256Hex(issued.token));
    const control = await getControlDb();
    const audit = (await control.db.select().from(controlAuditLog)).filter((row) => row.target === issued.summary.id);
    expect(audit.map((row) => [row.action, row.actorId])).toEqual([
      ["token.issue", fx.adminUser.user.id],
      ["token.revoke", fx.adminUser.user.id],
    ]);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ workspaceId: fx.workspaceId, name: "ci", role: "member" });

    const tables = await control.connection.all("SELECT name FROM sqlite_master WHERE type = 'table'");
    const rows: string[] = [];
    for (const { name } of tables) for (const row of await control.connection.all(`SELECT * FROM "${String(name)}"`)) rows.push(JSON.stringify(row));
    const text = rows.join("\n");
    expect(text).toContain(sha256Hex(issued.token));
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4, 30));
    }

    const file = path.join(store.dataDir(), "control.db");
    const key = deriveControlKey(getStore().masterKey);
    await closeStore();
    const pages = Buffer.concat(decryptedSqlcipherPages(file, key)).toString("latin1");
    expect(pages).toContain(sha256Hex(issued.token));
    const raw = fs.readFileSync(file).toString("latin1");
    for (const secret of secrets) {
      expect(pages).not.toContain(secret.slice(4, 30));
      expect(raw).not.toContain(secret.slice(4, 30));
    }
  });
});
