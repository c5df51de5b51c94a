import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { generate } from "otplib";
import { beforeEach, describe, expect, it } from "vitest";
import { accessRequests, invitations, knownDevices, oauthTokens, sessions, users, workspaces } from "@/db/control/schema";
import { controlAuditLog, workspaceAuditLog } from "@/lib/audit/audit";
import { confirmTotpSetup, normalizeCode, startTotpSetup } from "@/lib/auth/mfa";
import { createUser } from "@/lib/auth/users";
import { hashSecret, sha256Hex } from "@/lib/crypto/secrets";
import { getControlDb, withWorkspace } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { putAgentSession } from "@/lib/workspace/agent-sessions";
import { putArtifact } from "@/lib/workspace/artifacts";
import { publishEvent } from "@/lib/workspace/events";
import { createKnowledge } from "@/lib/workspace/knowledge";
import { createLink } from "@/lib/workspace/links";
import { createWorkspace } from "@/lib/workspace/workspaces";
import { jsonOf, liveGrant, ownerAccess, sessionCookieForUser, workspaceWithTokens } from "./api";
import { request, workspacePath } from "./harness";
import { acceptFromAnswer } from "./invitations";
import { useTempStore } from "./store";
import { jsonLinesOf, readZip } from "./zip";

useTempStore();
beforeEach(() => resetRateLimits());

const PASSWORD = "correct horse battery";
const NEIGHBOUR_IP = "203.0.113.77";
const NEIGHBOUR_NOTE = "the neighbour's private plans for the harvest";
const OWN_NOTE = "our own research notes";

const exportOf = (cookie: string, options: { ip?: string; headers?: Record<string, string> } = {}) =>
  request("/api/account/export", { cookie, ip: options.ip, headers: { origin: "", ...options.headers } });

/** The session's re-auth stamp, as if the password had been entered `ago` ms before now. */
async function stampReauth(cookie: string, ago = 0): Promise<void> {
  const token = cookie.split("=")[1]!;
  const control = await getControlDb();
  await control.db.update(sessions).set({ reauthAt: Date.now() - ago }).where(eq(sessions.tokenHash, hashSecret(token)));
}

async function signedIn(userId: string, reauthAgo: number | null = 0): Promise<string> {
  const cookie = await sessionCookieForUser(userId);
  if (reauthAgo !== null) await stampReauth(cookie, reauthAgo);
  return cookie;
}

/**
 * A person with everything an export covers and every secret it must leave behind: MFA on (a
 * TOTP secret, backup codes, a pending secret planted), team tokens they issued, an AI client
 * with a live access token, a workspace they own full of data, one they own and deleted, and a
 * membership in a neighbour's workspace, whose owner also acted on them from another address.
 */
async function person() {
  const ws = await workspaceWithTokens(`person-${Math.random().toString(36).slice(2)}@example.com`);
  const owner = ws.owner;
  const setup = await startTotpSetup(owner.id, owner.email);
  const enabledAt = Date.now();
  const mfa = await confirmTotpSetup(owner.id, await generate({ secret: setup.secret, epoch: Math.floor(enabledAt / 1000) }), enabledAt);
  const backupCode = mfa!.backupCodes[0]!;
  const control = await getControlDb();
  const pendingSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
  await control.db.update(users).set({ totpPendingSecret: pendingSecret }).where(eq(users.id, owner.id));

  const knowledge = await ownerAccess(ws, "knowledge");
  const first = await createKnowledge(knowledge, { title: "Research", body: OWN_NOTE, tags: ["lab"] });
  const second = await createKnowledge(knowledge, { title: "Follow-up", body: "next steps", tags: [] });
  await createLink(await ownerAccess(ws, "index"), { from: first.entry.id, to: second.entry.id, relation: "refs" });
  await putAgentSession(await ownerAccess(ws, "sessionmutations"), "planner", { rev: 0, state: { step: 3 } });
  await publishEvent(await ownerAccess(ws, "events:publish"), { type: "build.done", payload: { ok: true } });
  const artifacts = await ownerAccess(ws, "artifacts");
  await putArtifact(artifacts, "notes.txt", "text/plain", Buffer.from("plain text artifact"));
  await putArtifact(artifacts, "Image.PNG", "image/png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]));

  const deleted = await createWorkspace({ type: "user", userId: owner.id }, "Old project");
  await control.db.update(workspaces).set({ deletedAt: Date.now(), deletedBy: owner.id, deletedWith: "owner", purgeAt: Date.now() + 86_400_000 }).where(eq(workspaces.id, deleted.id));

  const grantId = await liveGrant(ws, "Person's agent");
  const oauthTokenHash = sha256Hex(`oauth-access-${Math.random()}`);
  await control.db.insert(oauthTokens).values({ tokenHash: oauthTokenHash, grantId, kind: "access", scopes: "[]", createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });

  // The neighbour: their own workspace and data, and an act on the person from their own address.
  const neighbourEmail = `neighbour-${Math.random().toString(36).slice(2)}@example.com`;
  const neighbour = await createUser({ email: neighbourEmail, password: PASSWORD });
  const theirs = await createWorkspace({ type: "user", userId: neighbour.id }, "Neighbour's farm");
  await createKnowledge(await ownerAccess({ owner: neighbour, workspaceId: theirs.id }, "knowledge"), { title: "Harvest", body: NEIGHBOUR_NOTE, tags: [] });
  const neighbourCookie = await sessionCookieForUser(neighbour.id);
  // Invited, accepted by the person, then promoted by the neighbour: the neighbour's act on the person.
  const added = await request(workspacePath(theirs.id, "/members"), { cookie: neighbourCookie, ip: NEIGHBOUR_IP, body: { email: owner.email, role: "viewer" } });
  await acceptFromAnswer(added, await sessionCookieForUser(owner.id));
  const promoted = await request(workspacePath(theirs.id, `/members/${owner.id}`), { cookie: neighbourCookie, ip: NEIGHBOUR_IP, method: "PATCH", body: { role: "member" } });
  expect(promoted.status).toBe(200);

  // Re-authenticated the way the portal does it, so the person's own audit rows carry their address.
  const cookie = await sessionCookieForUser(owner.id);
  const reauth = await request("/api/account/reauth", { cookie, body: { password: PASSWORD, code: mfa!.backupCodes[1] } });
  expect(reauth.status).toBe(200);
  const [ownerRow] = await control.db.select().from(users).where(eq(users.id, owner.id));
  return {
    ws,
    owner,
    cookie,
    deleted,
    neighbour: { ...neighbour, workspaceId: theirs.id, cookie: neighbourCookie },
    secrets: {
      "the password": PASSWORD,
      "the password hash": ownerRow!.passwordHash,
      "the TOTP secret": setup.secret,
      "the pending TOTP secret": pendingSecret,
      "a backup code": backupCode,
      "a backup code, normalised": normalizeCode(backupCode),
      "a backup code's hash": sha256Hex(normalizeCode(backupCode)),
      "the session token": cookie.split("=")[1]!,
      "the session token's hash": hashSecret(cookie.split("=")[1]!),
      "a team token": ws.viewer,
      "a team token's hash": hashSecret(ws.viewer),
      "an OAuth access token's hash": oauthTokenHash,
      "the neighbour's email": neighbourEmail,
      "the neighbour's data": NEIGHBOUR_NOTE,
      "the neighbour's IP address": NEIGHBOUR_IP,
    } as Record<string, string>,
  };
}

/** The archive, once the export has finished with it (its audit row, the last thing it writes, is there). */
async function download(cookie: string, userId: string): Promise<Map<string, Buffer>> {
  const response = await exportOf(cookie);
  if (response.status !== 200) throw new Error(`export answered ${response.status}: ${await response.text()}`);
  const files = await readZip(Buffer.from(await response.arrayBuffer()));
  await exportAuditRow(userId);
  return files;
}

/** Waits for the `count`th audit row exports of `userId` write once their archive has ended, and returns the last. */
async function exportAuditRow(userId: string, count = 1) {
  const control = await getControlDb();
  for (let i = 0; i < 200; i++) {
    const rows = await control.db.select().from(controlAuditLog).where(and(eq(controlAuditLog.action, "account.export"), eq(controlAuditLog.target, userId)));
    const row = rows[count - 1];
    if (row) return { ...row, details: JSON.parse(row.details) as Record<string, unknown> };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no account.export audit row number ${count}`);
}

/** Hangs up on a download and waits until the export has noticed (its audit row). */
async function hangUp(response: Response, userId: string, count = 1) {
  await response.body?.cancel();
  return exportAuditRow(userId, count);
}

describe("GET /api/account/export", () => {
  it("streams a ZIP of the person's account, tokens, AI clients, audit rows and every workspace they own, deleted ones too, with a manifest that holds", async () => {
    const p = await person();
    const response = await exportOf(p.cookie);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="enclave-export-\d{4}-\d{2}-\d{2}\.zip"$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const files = await readZip(Buffer.from(await response.arrayBuffer()));
    await exportAuditRow(p.owner.id);

    const account = JSON.parse(files.get("account.json")!.toString()) as {
      user: { id: string; email: string };
      twoFactor: { enabled: boolean; unusedBackupCodes: number };
      sessions: { current: boolean; ip: string | null }[];
      memberships: { workspaceId: string; role: string }[];
    };
    expect(account.user).toMatchObject({ id: p.owner.id, email: p.owner.email });
    expect(account.twoFactor).toEqual({ enabled: true, unusedBackupCodes: 9 });
    expect(account.sessions.filter((session) => session.current)).toHaveLength(1);
    expect(account.memberships.map((m) => [m.workspaceId, m.role]).sort()).toEqual(
      [[p.ws.workspaceId, "owner"], [p.deleted.id, "owner"], [p.neighbour.workspaceId, "member"]].sort(),
    );
    const tokens = JSON.parse(files.get("tokens.json")!.toString()) as { name: string; scopes: string[] }[];
    expect(tokens.map((token) => token.name).sort()).toEqual(["admin", "member", "viewer"]);
    expect(Object.keys(tokens[0]!).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "revokedAt", "role", "scopes", "workspaceId"]);
    const clients = JSON.parse(files.get("ai-clients.json")!.toString()) as { clientName: string }[];
    expect(clients.map((client) => client.clientName)).toEqual(["Person's agent"]);
    const audit = jsonLinesOf<{ action: string; actorId: string | null; target: string | null }>(files.get("audit.jsonl"));
    expect(audit.map((row) => row.action)).toEqual(expect.arrayContaining(["user.sign_up", "mfa.enabled", "token.issue", "member.add", "workspace.create"]));
    expect(audit.every((row) => row.actorId === p.owner.id || [p.owner.id, ...tokens.map((t) => (t as { id?: string }).id)].includes(row.target ?? ""))).toBe(true);

    const folder = `workspaces/${p.ws.workspaceId}/`;
    expect(jsonLinesOf<{ body: string }>(files.get(`${folder}knowledge.jsonl`)).map((row) => row.body).sort()).toEqual(["next steps", OWN_NOTE]);
    expect(jsonLinesOf(files.get(`${folder}links.jsonl`))).toHaveLength(1);
    expect(jsonLinesOf(files.get(`${folder}agent-sessions.jsonl`))).toMatchObject([{ name: "planner", state: { step: 3 }, rev: 1 }]);
    expect(jsonLinesOf(files.get(`${folder}events.jsonl`))).toMatchObject([{ seq: 1, type: "build.done", payload: { ok: true } }]);
    const index = jsonLinesOf<{ name: string; file: string; sha256: string; size: number }>(files.get(`${folder}artifacts.jsonl`));
    expect(index.map((entry) => [entry.name, entry.file])).toEqual([
      ["Image.PNG", "artifacts/000001-Image.PNG"],
      ["notes.txt", "artifacts/000002-notes.txt"],
    ]);
    for (const entry of index) {
      const bytes = files.get(folder + entry.file)!;
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256);
      expect(bytes.length).toBe(entry.size);
    }
    expect(files.get(`${folder}artifacts/000002-notes.txt`)!.toString()).toBe("plain text artifact");
    expect(jsonLinesOf<{ action: string }>(files.get(`${folder}audit.jsonl`))[0]).toMatchObject({ seq: 1, action: "workspace.create" });
    const deletedMeta = JSON.parse(files.get(`workspaces/${p.deleted.id}/workspace.json`)!.toString()) as { id: string; name: string; deletedAt: number | null };
    expect(deletedMeta).toMatchObject({ id: p.deleted.id, name: "Old project" });
    expect(deletedMeta.deletedAt).toBeGreaterThan(0);
    expect([...files.keys()].some((name) => name.includes(p.neighbour.workspaceId))).toBe(false);
    // Billing is off here and nothing was ever billed: no billing file at all.
    expect(files.has("billing.json")).toBe(false);
    expect(files.get("README.txt")!.toString()).toMatch(/No password, password hash, token or session secret/);

    const manifest = JSON.parse(files.get("manifest.json")!.toString()) as { format: string; kind: string; files: { path: string; size: number; sha256: string }[] };
    expect(manifest).toMatchObject({ format: "enclave-export/1", kind: "account" });
    expect(manifest.files.map((file) => file.path).sort()).toEqual([...files.keys()].filter((name) => name !== "manifest.json").sort());
    for (const file of manifest.files) {
      expect(createHash("sha256").update(files.get(file.path)!).digest("hex"), file.path).toBe(file.sha256);
      expect(files.get(file.path)!.length, file.path).toBe(file.size);
    }
  });

  it("holds no secret and no one else's data in any byte of any file", async () => {
    const p = await person();
    const files = await download(p.cookie, p.owner.id);
    const everything = Buffer.concat([...files.entries()].flatMap(([name, bytes]) => [Buffer.from(name), bytes]));
    for (const [what, secret] of Object.entries(p.secrets)) {
      expect(everything.includes(Buffer.from(secret)), `${what} is in the export`).toBe(false);
      expect(everything.includes(Buffer.from(secret.toLowerCase())), `${what} (lower case) is in the export`).toBe(false);
    }
    // The neighbour's act on the person is theirs to know, but not where it came from.
    const audit = jsonLinesOf<{ action: string; actorId: string; ip: string | null }>(files.get("audit.jsonl"));
    const byNeighbour = audit.filter((row) => row.actorId === p.neighbour.id);
    expect(byNeighbour.map((row) => row.action)).toEqual(["member.role_change"]);
    expect(byNeighbour[0]!.ip).toBeNull();
    // Their own acts keep their own address (the harness's client IP).
    expect(audit.find((row) => row.action === "account.reauth")).toMatchObject({ actorId: p.owner.id, ip: "127.0.0.1" });
  });

  it("carries the identity rows about the person: verification, known devices, invitations to their address, their access requests; never an invitation's token hash", async () => {
    const p = await person();
    const control = await getControlDb();
    const now = Date.now();
    await control.db.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, p.owner.id));
    await control.db.insert(knownDevices).values({ userId: p.owner.id, deviceHash: "device-hash-stays-home", firstSeenAt: now - 1000, lastSeenAt: now });
    await control.db.insert(invitations).values([
      { id: "inv_mine", tokenHash: "invitation-hash-stays-home", email: p.owner.email, workspaceId: p.neighbour.workspaceId, role: "viewer", invitedBy: p.neighbour.id, createdAt: now, expiresAt: now + 1000 },
      { id: "inv_someone_elses", tokenHash: "other-hash", email: "someone@example.com", workspaceId: p.neighbour.workspaceId, role: "viewer", createdAt: now, expiresAt: now + 1000 },
    ]);
    await control.db.insert(accessRequests).values({ id: "req_mine", email: p.owner.email, message: "let me in, please", createdAt: now });
    const files = await download(p.cookie, p.owner.id);
    const account = JSON.parse(files.get("account.json")!.toString()) as {
      user: { emailVerifiedAt: number | null; clerkUserId: string | null };
      knownDevices: unknown[];
      invitations: { id: string; role: string }[];
      accessRequests: { id: string; message: string; status: string }[];
    };
    expect(account.user).toMatchObject({ emailVerifiedAt: now, clerkUserId: null });
    expect(account.knownDevices).toEqual([{ firstSeenAt: now - 1000, lastSeenAt: now }]);
    // The fixture joined the neighbour's workspace through an invitation of its own; this one is beside it.
    expect(account.invitations).toContainEqual(expect.objectContaining({ id: "inv_mine", role: "viewer", workspaceId: p.neighbour.workspaceId }));
    expect(account.invitations.every((invitation) => !("tokenHash" in invitation))).toBe(true);
    expect(account.accessRequests).toEqual([expect.objectContaining({ id: "req_mine", message: "let me in, please", status: "pending" })]);
    const everything = Buffer.concat([...files.values()]);
    for (const secret of ["device-hash-stays-home", "invitation-hash-stays-home", "inv_someone_elses"]) expect(everything.includes(Buffer.from(secret)), secret).toBe(false);
  });

  it("gives another person's session that person's data only", async () => {
    const p = await person();
    const files = await download(await signedIn(p.neighbour.id), p.neighbour.id);
    const account = JSON.parse(files.get("account.json")!.toString()) as { user: { email: string } };
    expect(account.user.email).toBe(p.secrets["the neighbour's email"]);
    const everything = Buffer.concat([...files.values()]);
    for (const theirs of [p.owner.email, OWN_NOTE, p.ws.workspaceId, p.deleted.id]) expect(everything.includes(Buffer.from(theirs)), theirs).toBe(false);
  });

  it("refuses without a session, with a forged cookie, and with team tokens (Bearer), admin ones included", async () => {
    const p = await person();
    expect((await request("/api/account/export")).status).toBe(401);
    for (const token of [p.ws.admin, p.ws.viewer]) {
      const refused = await request("/api/account/export", { token });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
    }
    expect((await request("/api/account/export", { cookie: "enclave_session=enc_ss_forged" })).status).toBe(401);
  });

  it("asks for a re-auth of this very session in the last ten minutes", async () => {
    const p = await person();
    const never = await exportOf(await signedIn(p.owner.id, null));
    expect(never.status).toBe(401);
    expect((await jsonOf(never)).error).toBe("reauth_required");
    const stale = await exportOf(await signedIn(p.owner.id, 10 * 60_000 + 1000));
    expect(stale.status).toBe(401);
    expect((await jsonOf(stale)).error).toBe("reauth_required");
    // A re-auth in one session (p.cookie) does nothing for another session of the same person.
    const otherDevice = await exportOf(await sessionCookieForUser(p.owner.id));
    expect(otherDevice.status).toBe(401);
    const fresh = await exportOf(await signedIn(p.owner.id, 9 * 60_000));
    expect(fresh.status).toBe(200);
    await hangUp(fresh, p.owner.id);
  });

  it("re-auth through POST /api/account/reauth: the password, and the code when MFA is on", async () => {
    const p = await person();
    const cookie = await signedIn(p.owner.id, null);
    const reauth = (body: unknown) => request("/api/account/reauth", { cookie, body });
    expect((await jsonOf(await reauth({ password: "not the password" }))).error).toBe("invalid_credentials");
    expect((await jsonOf(await reauth({ password: PASSWORD }))).error).toBe("mfa_required");
    expect((await jsonOf(await reauth({ password: PASSWORD, code: "000000" }))).error).toBe("invalid_mfa_code");
    expect((await exportOf(cookie)).status).toBe(401);
    const ok = await reauth({ password: PASSWORD, code: p.secrets["a backup code"] });
    expect(ok.status).toBe(200);
    expect((await jsonOf<{ validUntil: number }>(ok)).validUntil).toBeGreaterThan(Date.now() + 9 * 60_000);
    // The backup code is spent.
    expect((await jsonOf(await reauth({ password: PASSWORD, code: p.secrets["a backup code"] }))).error).toBe("invalid_mfa_code");
    const allowed = await exportOf(cookie);
    expect(allowed.status).toBe(200);
    await hangUp(allowed, p.owner.id);
    // Cross-site, even with a good cookie and a fresh re-auth: refused.
    const forged = await request("/api/account/reauth", { cookie, body: { password: PASSWORD }, headers: { origin: "https://evil.example" } });
    expect(forged.status).toBe(403);
  });

  it("refuses a request a browser says came from another site", async () => {
    const p = await person();
    for (const site of ["cross-site", "same-site"]) {
      const refused = await exportOf(p.cookie, { headers: { "sec-fetch-site": site } });
      expect(refused.status, site).toBe(403);
      expect((await jsonOf(refused)).error).toBe("forbidden_origin");
    }
    expect((await exportOf(p.cookie, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    // A link on our own page, or the address typed in.
    for (const [site, count] of [["same-origin", 1], ["none", 2]] as const) {
      const allowed = await exportOf(p.cookie, { headers: { "sec-fetch-site": site } });
      expect(allowed.status, site).toBe(200);
      await hangUp(allowed, p.owner.id, count);
    }
  });

  it("allows three exports an hour per account, then answers 429 with Retry-After", async () => {
    const p = await person();
    for (let i = 0; i < 3; i++) {
      const response = await exportOf(p.cookie, { ip: `198.51.100.${i}` });
      expect(response.status).toBe(200);
      await hangUp(response, p.owner.id, i + 1);
    }
    const fourth = await exportOf(p.cookie, { ip: "198.51.100.9" });
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(3000);
    expect((await jsonOf(fourth)).error).toBe("rate_limited");
  });

  it("allows three exports an hour per IP, whoever asks", async () => {
    const p = await person();
    for (let i = 0; i < 3; i++) {
      const other = await createUser({ email: `ip-${i}-${Math.random()}@example.com`, password: PASSWORD });
      const response = await exportOf(await signedIn(other.id), { ip: "198.51.100.50" });
      expect(response.status).toBe(200);
      await hangUp(response, other.id);
    }
    const fourth = await exportOf(p.cookie, { ip: "198.51.100.50" });
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("is audited when the archive ends, with its figures, in the control chain and in each workspace exported", async () => {
    const p = await person();
    const files = await download(p.cookie, p.owner.id);
    const row = await exportAuditRow(p.owner.id);
    expect(row).toMatchObject({ actorType: "user", actorId: p.owner.id, ip: "127.0.0.1" });
    expect(row.details).toMatchObject({ outcome: "complete", files: files.size - 1, workspaces: [p.deleted.id, p.ws.workspaceId].sort() });
    const bytes = [...files.entries()].filter(([name]) => name !== "manifest.json").reduce((sum, [, content]) => sum + content.length, 0);
    expect(row.details.bytes).toBe(bytes);
    const workspaceRows = await withWorkspace(p.ws.workspaceId, (db) => db.db.select().from(workspaceAuditLog).where(eq(workspaceAuditLog.action, "workspace.export")));
    expect(workspaceRows).toHaveLength(1);
    expect(JSON.parse(workspaceRows[0]!.details)).toMatchObject({ outcome: "complete", via: "account_export" });
  });

  it("stops when the client goes away mid-download, and audits it as aborted", async () => {
    const p = await person();
    // Enough bytes that the archive cannot be done before the reader leaves.
    await putArtifact(await ownerAccess(p.ws, "artifacts"), "big.bin", "application/octet-stream", Buffer.alloc(3 * 1024 * 1024, 7));
    const response = await exportOf(p.cookie);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const row = await exportAuditRow(p.owner.id);
    expect(row.details.outcome).toBe("aborted");
    expect(row.details.bytes).toBeLessThan(3 * 1024 * 1024);
  });
});
