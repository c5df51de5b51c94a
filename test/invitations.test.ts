import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invitations, users } from "@/db/control/schema";
import { controlAuditLog } from "@/lib/audit/audit";
import { setConfigForTests } from "@/lib/config";
import { hashSecret } from "@/lib/crypto/secrets";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sessionCookieForUser, snapshotWorkspace, userInWorkspace, workspaceWithTokens } from "./api";
import { jsonOf, request, workspacePath } from "./harness";
import { tokenOfLink } from "./invitations";
import { startSmtpServer } from "./smtp-server";
import { testConfig, useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

type Invited = { invitation: { id: string; email: string; workspaceId: string; role: string; createdAt: number; expiresAt: number }; mailed: boolean; link: string | null };

async function setup() {
  const ws = await workspaceWithTokens();
  const ownerCookie = await sessionCookieForUser(ws.owner.id);
  const invite = async (email: string, role = "member", auth: { cookie?: string; token?: string } = { cookie: ownerCookie }) => {
    const response = await request(workspacePath(ws.workspaceId, "/members"), { ...auth, body: { email, role } });
    return { response, body: await jsonOf<Invited>(response) };
  };
  const inviteToken = async (email: string, role = "member") => tokenOfLink((await invite(email, role)).body.link!);
  const accept = (cookie: string, token: string) => request("/api/invitations/accept", { cookie, body: { token } });
  const roleOf = async (userId: string) => {
    const members = await jsonOf<{ items: { userId: string; role: string }[] }>(await request(workspacePath(ws.workspaceId, "/members"), { cookie: ownerCookie }));
    return members.items.find((m) => m.userId === userId)?.role ?? null;
  };
  return { ...ws, ownerCookie, invite, inviteToken, accept, roleOf };
}

async function expectRefused(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  const body = await jsonOf(response);
  expect(body.error).toBe(error);
  return body;
}

function expectInviteRefused(answer: { response: Response; body: unknown }, status: number, error: string) {
  expect(answer.response.status).toBe(status);
  expect((answer.body as { error?: string }).error).toBe(error);
}

const invitationRow = async (id: string) => (await (await getControlDb()).db.select().from(invitations).where(eq(invitations.id, id)))[0]!;

describe("invitations", () => {
  it("adding a member answers the same status and body shape whether or not an account uses the email", async () => {
    const fx = await setup();
    const existing = await userInWorkspace("", null);
    const withAccount = await fx.invite(existing.user.email, "viewer");
    const withoutAccount = await fx.invite("nobody-here@example.com", "viewer");
    expect(withAccount.response.status).toBe(201);
    expect(withoutAccount.response.status).toBe(withAccount.response.status);
    const shape = (value: unknown): unknown =>
      value === null ? "null" : Array.isArray(value) ? value.map(shape) : typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)])) : typeof value;
    expect(shape(withoutAccount.body)).toEqual(shape(withAccount.body));
    expect([...withAccount.response.headers.keys()].sort()).toEqual([...withoutAccount.response.headers.keys()].sort());
    // Neither joined: an invitation is accepted by the person, never imposed.
    expect(await fx.roleOf(existing.user.id)).toBeNull();
  });

  it("is shown once: only the SHA-256 of the token is stored, and the token is enc_inv_ with a checksum", async () => {
    const fx = await setup();
    const { body } = await fx.invite("someone@example.com");
    const token = tokenOfLink(body.link!);
    expect(token).toMatch(/^enc_inv_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
    const row = await invitationRow(body.invitation.id);
    expect(row.tokenHash).toBe(hashSecret(token));
    const control = await getControlDb();
    const everything = JSON.stringify(await control.db.select().from(invitations)) + JSON.stringify(await control.db.select().from(controlAuditLog));
    expect(everything).not.toContain(token);
    expect(body.invitation.expiresAt - body.invitation.createdAt).toBe(7 * 24 * 60 * 60 * 1000);
    // Listed as pending, without the token.
    const listed = await jsonOf<{ items: { id: string }[] }>(await request(workspacePath(fx.workspaceId, "/invitations"), { cookie: fx.ownerCookie }));
    expect(listed.items.map((i) => i.id)).toEqual([body.invitation.id]);
    expect(JSON.stringify(listed)).not.toContain(token);
  });

  it("accepting joins with the invited role, once: a second use is 409 invitation_used", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null);
    const token = await fx.inviteToken(person.user.email, "admin");
    const accepted = await fx.accept(person.cookie, token);
    expect(accepted.status).toBe(200);
    expect(await jsonOf(accepted)).toEqual({ workspaceId: fx.workspaceId, role: "admin" });
    expect(await fx.roleOf(person.user.id)).toBe("admin");
    // Removed, then the old link again: used is used.
    expect((await request(workspacePath(fx.workspaceId, `/members/${person.user.id}`), { cookie: fx.ownerCookie, method: "DELETE" })).status).toBe(204);
    await expectRefused(await fx.accept(person.cookie, token), 409, "invitation_used");
    expect(await fx.roleOf(person.user.id)).toBeNull();
    const actions = (await (await getControlDb()).db.select().from(controlAuditLog)).map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(["invitation.created", "invitation.accepted", "member.add"]));
  });

  it("two accepts racing: exactly one wins, the membership is made once", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null);
    const token = await fx.inviteToken(person.user.email, "member");
    const secondCookie = await sessionCookieForUser(person.user.id);
    const answers = await Promise.all([fx.accept(person.cookie, token), fx.accept(secondCookie, token), fx.accept(person.cookie, token)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
    const accepted = (await (await getControlDb()).db.select().from(controlAuditLog)).filter((row) => row.action === "invitation.accepted");
    expect(accepted).toHaveLength(1);
    expect(await fx.roleOf(person.user.id)).toBe("member");
  });

  it("by another email is 403 (the invited one in any case is the same) and says nothing of the invited address", async () => {
    const fx = await setup();
    const token = await fx.inviteToken(" Invited@Example.COM ");
    const intruder = await userInWorkspace("", null);
    const before = await snapshotWorkspace(fx.workspaceId);
    const body = await expectRefused(await fx.accept(intruder.cookie, token), 403, "invitation_other_email");
    expect(JSON.stringify(body)).not.toContain("invited@example.com");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    // The invited person, signing up with another case of the address, is the same address.
    const invited = await userInWorkspace("", null, "invited@example.com");
    expect((await fx.accept(invited.cookie, token)).status).toBe(200);
  });

  it("after expiry is 410 invitation_expired, and nothing changes", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null);
    const { body } = await fx.invite(person.user.email);
    await (await getControlDb()).db.update(invitations).set({ expiresAt: Date.now() - 1 }).where(eq(invitations.id, body.invitation.id));
    const before = await snapshotWorkspace(fx.workspaceId);
    await expectRefused(await fx.accept(person.cookie, tokenOfLink(body.link!)), 410, "invitation_expired");
    expect(await snapshotWorkspace(fx.workspaceId)).toBe(before);
    const listed = await jsonOf<{ items: unknown[] }>(await request(workspacePath(fx.workspaceId, "/invitations"), { cookie: fx.ownerCookie }));
    expect(listed.items).toEqual([]);
  });

  it("after revocation is 410 invitation_revoked; revoking is audited; a second invitation replaces the first", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null);
    const { body } = await fx.invite(person.user.email);
    expect((await request(workspacePath(fx.workspaceId, `/invitations/${body.invitation.id}`), { cookie: fx.ownerCookie, method: "DELETE" })).status).toBe(204);
    await expectRefused(await fx.accept(person.cookie, tokenOfLink(body.link!)), 410, "invitation_revoked");
    expect(await fx.roleOf(person.user.id)).toBeNull();
    const revoked = (await (await getControlDb()).db.select().from(controlAuditLog)).filter((row) => row.action === "invitation.revoked");
    expect(revoked.map((row) => row.target)).toEqual([body.invitation.id]);
    // Revoked twice: no longer pending, a 404.
    await expectRefused(await request(workspacePath(fx.workspaceId, `/invitations/${body.invitation.id}`), { cookie: fx.ownerCookie, method: "DELETE" }), 404, "not_found");

    const first = await fx.invite(person.user.email);
    const second = await fx.invite(person.user.email);
    await expectRefused(await fx.accept(person.cookie, tokenOfLink(first.body.link!)), 410, "invitation_revoked");
    expect((await fx.accept(person.cookie, tokenOfLink(second.body.link!))).status).toBe(200);
  });

  it("another workspace's invitation id in revoke is a 404, and that invitation still works", async () => {
    const fx = await setup();
    const other = await setup();
    const person = await userInWorkspace("", null);
    const { body } = await other.invite(person.user.email);
    await expectRefused(await request(workspacePath(fx.workspaceId, `/invitations/${body.invitation.id}`), { cookie: fx.ownerCookie, method: "DELETE" }), 404, "not_found");
    expect((await invitationRow(body.invitation.id)).revokedAt).toBeNull();
    expect((await other.accept(person.cookie, tokenOfLink(body.link!))).status).toBe(200);
  });

  it("a viewer or member (cookie or token) cannot invite, list or revoke (403), and nothing is stored", async () => {
    const fx = await setup();
    const { body } = await fx.invite("pending@example.com");
    const viewer = await userInWorkspace(fx.workspaceId, "viewer");
    const member = await userInWorkspace(fx.workspaceId, "member");
    const before = JSON.stringify(await (await getControlDb()).db.select().from(invitations));
    for (const auth of [{ cookie: viewer.cookie }, { cookie: member.cookie }, { token: fx.viewer }, { token: fx.member }]) {
      expectInviteRefused(await fx.invite("new@example.com", "viewer", auth), 403, "insufficient_scope");
      await expectRefused(await request(workspacePath(fx.workspaceId, "/invitations"), auth), 403, "insufficient_scope");
      await expectRefused(await request(workspacePath(fx.workspaceId, `/invitations/${body.invitation.id}`), { ...auth, method: "DELETE" }), 403, "insufficient_scope");
    }
    expect(JSON.stringify(await (await getControlDb()).db.select().from(invitations))).toBe(before);
    // An admin cannot invite an admin's better: owner is never invitable, and above an admin.
    const admin = await userInWorkspace(fx.workspaceId, "admin");
    expectInviteRefused(await fx.invite("boss@example.com", "owner", { cookie: admin.cookie }), 403, "role_exceeds_yours");
  });

  it("a made-up, mistyped or missing token is one 404, and accepting needs a session", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null);
    const token = await fx.inviteToken(person.user.email);
    const mistyped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    for (const bad of [mistyped, "enc_inv_" + "A".repeat(49), "hello"]) await expectRefused(await fx.accept(person.cookie, bad), 404, "invitation_not_found");
    await expectRefused(await fx.accept(person.cookie, ""), 400, "invalid_request");
    await expectRefused(await request("/api/invitations/accept", { body: { token }, headers: { origin: "http://localhost:3000" } }), 401, "unauthenticated");
    expect(await fx.roleOf(person.user.id)).toBeNull();
  });
});

describe("invitations with mail on", () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());
  beforeEach(() => setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_SMTP_URL: smtp.url })));

  it("mails the link (not returned to the inviter), and an unverified email cannot accept until verified", async () => {
    const fx = await setup();
    const person = await userInWorkspace("", null, `mailed-${Date.now()}@example.com`);
    const { response, body } = await fx.invite(person.user.email, "viewer");
    expect(response.status).toBe(201);
    expect(body).toMatchObject({ mailed: true, link: null });
    const mail = await smtp.waitFor((m) => m.to.includes(person.user.email));
    expect(mail.subject).toContain("Team");
    const link = /https?:\/\/\S+\/invite\?token=\S+/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    const token = tokenOfLink(link!);
    await expectRefused(await fx.accept(person.cookie, token), 403, "email_unverified");
    expect(await fx.roleOf(person.user.id)).toBeNull();
    await (await getControlDb()).db.update(users).set({ emailVerifiedAt: Date.now() }).where(eq(users.id, person.user.id));
    expect((await fx.accept(person.cookie, token)).status).toBe(200);
    expect(await fx.roleOf(person.user.id)).toBe("viewer");
  });
});
