import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { accessRequests, backupCodes, emailTokens, invitations, knownDevices, memberships, oauthGrants, sessions, users, workspaces } from "@/db/control/schema";
import { addMember } from "@/lib/access/members";
import { controlAuditLog, verifyAuditChain } from "@/lib/audit/audit";
import { readAccountActivity } from "@/lib/audit/activity";
import { auditQuerySchema } from "@/lib/audit/trail";
import { verifyPassword } from "@/lib/auth/password";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { closeAccount } from "@/lib/lifecycle/closure";
import { purgeClosedAccounts, purgeWorkspace } from "@/lib/lifecycle/purge";
import { liveGrant, ownerAccess, sessionCookieForUser } from "./api";
import { ORIGIN, request, sessionCookieFrom, workspacePath } from "./harness";
import { addMembership, controlAudit, DAY_MS, listed, ownedWorkspace, pathsUnder, person, refusalOf, roleIn, userRow, withTotp } from "./lifecycle";
import { useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

/** A person with MFA, backup codes, sessions and a grant, owning "Solo" and "Shared" alone and "Joint" with someone else; closed at `now`. */
async function closedWorld(now = Date.now()) {
  const me = await person();
  const other = await person();
  await withTotp(me.user.id, me.user.email);
  const solo = await ownedWorkspace(me.user.id, "Solo");
  const shared = await ownedWorkspace(me.user.id, "Shared");
  await addMembership(shared, other.user.id, "member");
  const joint = await ownedWorkspace(other.user.id, "Joint");
  await addMembership(joint, me.user.id, "owner");
  await liveGrant({ owner: me.user, workspaceId: joint });
  await closeAccount(me.user.id, { type: "user", id: me.user.id }, { now });
  return { me, other, solo, shared, joint };
}

const mentioning = (workspaceId: string) => pathsUnder(store.dataDir()).filter((entry) => entry.includes(workspaceId));

async function heldBy(userId: string) {
  const control = await getControlDb();
  return {
    memberships: await control.db.$count(memberships, eq(memberships.userId, userId)),
    sessions: await control.db.$count(sessions, eq(sessions.userId, userId)),
    backupCodes: await control.db.$count(backupCodes, eq(backupCodes.userId, userId)),
    grants: await control.db.$count(oauthGrants, eq(oauthGrants.userId, userId)),
  };
}

const signUp = (email: string, password: string) => request("/api/auth/sign-up", { body: { email, password }, headers: { origin: ORIGIN } });
const signInAttempt = (email: string, password: string) => request("/api/auth/sign-in", { body: { email, password }, headers: { origin: ORIGIN } });

describe("purging closed accounts", () => {
  it("does nothing during the hold", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    const before = await heldBy(w.me.user.id);
    expect(await purgeClosedAccounts(now + 29 * DAY_MS)).toEqual({ due: 0, purged: 0 });
    expect(await heldBy(w.me.user.id)).toEqual(before);
    expect(mentioning(w.solo).length).toBeGreaterThan(0);
  });

  it("after the hold erases what the account held and the workspaces scheduled with it, and keeps the tombstone", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    const original = (await userRow(w.me.user.id))!;
    expect(await heldBy(w.me.user.id)).toMatchObject({ memberships: 3, backupCodes: 10, grants: 1 });

    expect(await purgeClosedAccounts(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });

    const tombstone = (await userRow(w.me.user.id))!;
    expect(tombstone).toMatchObject({ id: original.id, email: original.email, createdAt: original.createdAt, closureRequestedAt: now });
    expect(tombstone.closedAt).toBeGreaterThanOrEqual(now);
    expect(tombstone).toMatchObject({ passwordHash: "", totpSecret: null, totpPendingSecret: null, totpLastStep: null });
    expect(await heldBy(w.me.user.id)).toEqual({ memberships: 0, sessions: 0, backupCodes: 0, grants: 0 });
    // The workspaces they alone owned: no file, no folder, no row.
    for (const id of [w.solo, w.shared]) expect(mentioning(id)).toEqual([]);
    const control = await getControlDb();
    expect(await control.db.$count(workspaces, eq(workspaces.deletedBy, w.me.user.id))).toBe(0);
    // The one shared with another owner stays, with them, and their account is untouched.
    expect(mentioning(w.joint)).toContain(path.join("workspaces", w.joint, "workspace.db"));
    expect(await roleIn(w.joint, w.other.user.id)).toBe("owner");
    expect((await request(workspacePath(w.joint, "/knowledge"), { cookie: w.other.cookie })).status).toBe(200);

    expect((await controlAudit("workspace.purge")).map((row) => row.target).sort()).toEqual([w.shared, w.solo].sort());
    const [purged] = await controlAudit("account.purged");
    expect(purged).toMatchObject({ target: w.me.user.id, actorType: "system" });
    expect(JSON.parse(purged!.details)).toMatchObject({ workspacesPurged: 2, memberships: 1, backupCodes: 10, grants: 1 });
    expect(await verifyAuditChain(control.db, controlAuditLog)).toMatchObject({ ok: true });

    expect(await purgeClosedAccounts(now + 32 * DAY_MS)).toEqual({ due: 0, purged: 0 });
    expect(await controlAudit("account.purged")).toHaveLength(1);
  });

  it("erases the identity rows about the person too: mailed links, known devices, invitations and access requests for the address, the Clerk link", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    const control = await getControlDb();
    const email = w.me.user.email;
    await control.db.update(users).set({ clerkUserId: "user_2purgeme", emailVerifiedAt: now }).where(eq(users.id, w.me.user.id));
    await control.db.insert(emailTokens).values({ id: "etk_1", userId: w.me.user.id, purpose: "password_reset", tokenHash: "h1", createdAt: now, expiresAt: now + 1 });
    await control.db.insert(knownDevices).values({ userId: w.me.user.id, deviceHash: "d1", firstSeenAt: now, lastSeenAt: now });
    await control.db.insert(invitations).values({ id: "inv_1", tokenHash: "h2", email, workspaceId: w.joint, role: "member", invitedBy: w.other.user.id, createdAt: now, expiresAt: now + DAY_MS });
    // One they sent is the workspace's history, not theirs: it stays.
    await control.db.insert(invitations).values({ id: "inv_2", tokenHash: "h3", email: "friend@example.com", workspaceId: w.joint, role: "viewer", invitedBy: w.me.user.id, createdAt: now, expiresAt: now + DAY_MS });
    await control.db.insert(accessRequests).values({ id: "req_1", email, createdAt: now });
    // Their sign-ins recorded their devices too.
    const devices = await control.db.$count(knownDevices, eq(knownDevices.userId, w.me.user.id));

    await purgeClosedAccounts(now + 31 * DAY_MS);

    expect(await userRow(w.me.user.id)).toMatchObject({ clerkUserId: null, emailVerifiedAt: null });
    expect(await control.db.$count(emailTokens, eq(emailTokens.userId, w.me.user.id))).toBe(0);
    expect(await control.db.$count(knownDevices, eq(knownDevices.userId, w.me.user.id))).toBe(0);
    expect((await control.db.select({ id: invitations.id }).from(invitations)).map((row) => row.id)).toEqual(["inv_2"]);
    expect(await control.db.$count(accessRequests)).toBe(0);
    const [purged] = await controlAudit("account.purged");
    expect(JSON.parse(purged!.details)).toMatchObject({ emailTokens: 1, knownDevices: devices, invitations: 1, accessRequests: 1 });
  });

  it("a purged account cannot sign in, and its empty hash never verifies (nor throws)", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    await purgeClosedAccounts(now + 31 * DAY_MS);
    expect(await refusalOf(await signInAttempt(w.me.user.email, "correct horse battery"))).toEqual({ status: 401, error: "invalid_credentials" });
    for (const attempt of ["", "correct horse battery", "\u0000"]) expect(await verifyPassword("", attempt)).toBe(false);
  });

  it("its email can sign up again: a fresh account on the tombstone, with nothing of the old one", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    await purgeClosedAccounts(now + 31 * DAY_MS);
    // A tombstone is nobody: adding its email only invites the address (as for any address), and nobody joins.
    const invited = await addMember(await ownerAccess({ owner: w.other.user, workspaceId: w.joint }, "members"), { email: w.me.user.email, role: "member" });
    expect(invited).toMatchObject({ invitation: { email: w.me.user.email, workspaceId: w.joint, role: "member" }, mailed: false });
    expect(await roleIn(w.joint, w.me.user.id)).toBeNull();

    const signedUp = await signUp(w.me.user.email, "a brand new passphrase");
    expect(signedUp.status).toBe(201);
    const fresh = (await userRow(w.me.user.id))!;
    expect(fresh).toMatchObject({ id: w.me.user.id, closedAt: null, closureRequestedAt: null, purgeAt: null, totpSecret: null });
    expect(fresh.createdAt).toBeGreaterThan(w.me.user.createdAt - 1);
    expect(await listed(sessionCookieFrom(signedUp))).toEqual({ live: [], deleted: [] });
    expect((await signInAttempt(w.me.user.email, "a brand new passphrase")).status).toBe(200);
    expect(await refusalOf(await signInAttempt(w.me.user.email, "correct horse battery"))).toEqual({ status: 401, error: "invalid_credentials" });
    const [audit] = (await controlAudit("user.sign_up")).filter((row) => row.target === w.me.user.id).slice(-1);
    expect(JSON.parse(audit!.details)).toMatchObject({ reactivated: true });
    // Whoever signs up with the email reads nothing of the previous holder's trail.
    const activity = await readAccountActivity(fresh, auditQuerySchema.parse({ limit: 200 }));
    expect(activity.items.map((row) => row.action)).not.toContain("account.closure_requested");
    expect(activity.items.every((row) => row.at >= fresh.createdAt)).toBe(true);
    expect(activity.items.map((row) => row.action)).toContain("user.sign_up");
    // Now a live account: its email is taken again.
    expect(await refusalOf(await signUp(w.me.user.email, "a third passphrase!"))).toEqual({ status: 409, error: "email_taken" });
  });

  it("finishes after a crash that purged the workspaces but not yet the account", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    for (const id of [w.solo, w.shared]) expect(await purgeWorkspace(id, now + 31 * DAY_MS)).toBe(true);
    expect((await userRow(w.me.user.id))?.closedAt).toBeNull();
    expect(await purgeClosedAccounts(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect((await userRow(w.me.user.id))?.passwordHash).toBe("");
    expect(JSON.parse((await controlAudit("account.purged"))[0]!.details)).toMatchObject({ workspacesPurged: 0 });
    expect(await controlAudit("workspace.purge")).toHaveLength(2);
  });

  it("a run that fails on a workspace file leaves the account to the next run, which finishes it", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    const soloDir = path.join(store.dataDir(), "workspaces", w.solo);
    const realRm = fs.rmSync;
    const failing = vi.spyOn(fs, "rmSync").mockImplementation((target, options) => {
      if (String(target) === soloDir) throw new Error("EIO: i/o error");
      realRm(target, options);
    });
    await expect(purgeClosedAccounts(now + 31 * DAY_MS)).rejects.toThrow(/1 failed/);
    failing.mockRestore();
    expect((await userRow(w.me.user.id))?.closedAt).toBeNull();
    expect(mentioning(w.shared)).toEqual([]);
    expect(await purgeClosedAccounts(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect(mentioning(w.solo)).toEqual([]);
    expect((await userRow(w.me.user.id))?.closedAt).not.toBeNull();
  });

  it("a workspace they came to own alone during the hold is handed to its most senior member, never left without an owner", async () => {
    const now = Date.now();
    const me = await person();
    const founder = await person();
    const newcomer = await person();
    const team = await ownedWorkspace(founder.user.id, "Team");
    await addMembership(team, newcomer.user.id, "member");
    await addMembership(team, me.user.id, "admin");
    await closeAccount(me.user.id, { type: "user", id: me.user.id }, { now });
    // During the hold: the founder made them owner and stepped down.
    const control = await getControlDb();
    await control.db.update(memberships).set({ role: "owner" }).where(eq(memberships.userId, me.user.id));
    await control.db.update(memberships).set({ role: "admin" }).where(eq(memberships.userId, founder.user.id));

    expect(await purgeClosedAccounts(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect(await roleIn(team, founder.user.id)).toBe("owner");
    expect(await roleIn(team, me.user.id)).toBeNull();
    expect((await request(workspacePath(team, "/knowledge"), { cookie: await sessionCookieForUser(newcomer.user.id) })).status).toBe(200);
    const [handover] = await controlAudit("workspace.transfer");
    expect(JSON.parse(handover!.details)).toEqual({ from: me.user.id, to: founder.user.id, reason: "owner_account_purged" });
  });

  it("leaves other accounts alone, closing or not", async () => {
    const now = Date.now();
    const w = await closedWorld(now);
    const later = await person();
    await closeAccount(later.user.id, { type: "user", id: later.user.id }, { now: now + 10 * DAY_MS });
    expect(await purgeClosedAccounts(now + 31 * DAY_MS)).toEqual({ due: 1, purged: 1 });
    expect((await userRow(later.user.id))?.closedAt).toBeNull();
    expect((await userRow(w.other.user.id))?.passwordHash).not.toBe("");
    const control = await getControlDb();
    expect(await control.db.$count(users)).toBe(3);
  });
});
