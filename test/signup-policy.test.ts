import { beforeEach, describe, expect, it } from "vitest";
import { users } from "@/db/control/schema";
import { issueInvitationTx } from "@/lib/access/invitations";
import { setConfigForTests } from "@/lib/config";
import { getControlDb } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { sessionCookieForUser, workspaceWithTokens } from "./api";
import { jsonOf, ORIGIN, request, workspacePath } from "./harness";
import { tokenOfLink } from "./invitations";
import { testConfig, useTempStore } from "./store";

const store = useTempStore();
beforeEach(() => resetRateLimits());

const mode = (ENCLAVE_SIGNUP: string) => setConfigForTests(testConfig(store.dataDir(), { ENCLAVE_SIGNUP }));
const PASSWORD = "correct horse battery";
const signUp = (body: Record<string, unknown>) => request("/api/auth/sign-up", { body: { password: PASSWORD, ...body }, headers: { origin: ORIGIN } });
const accountEmails = async () => (await (await getControlDb()).db.select({ email: users.email }).from(users)).map((u) => u.email).sort();

async function expectRefused(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect((await jsonOf(response)).error).toBe(error);
}

/** A workspace invitation for `email`, its link's token as the inviter got it. */
async function workspaceInvitation(email: string, role = "member") {
  const ws = await workspaceWithTokens();
  const added = await request(workspacePath(ws.workspaceId, "/members"), { cookie: await sessionCookieForUser(ws.owner.id), body: { email, role } });
  expect(added.status).toBe(201);
  return { ...ws, token: tokenOfLink((await jsonOf<{ link: string }>(added)).link) };
}

/** The operator's sign-up pass (what approving an access request issues). */
async function signUpPass(email: string): Promise<string> {
  const control = await getControlDb();
  const { token } = await control.transaction((tx) => issueInvitationTx(tx, { email, workspaceId: null, role: null, invitedBy: null, actor: { type: "system", id: "cli" } }));
  return token;
}

describe("sign-up policy", () => {
  it("open (the loopback default): anyone signs up", async () => {
    expect((await signUp({ email: "anyone@example.com" })).status).toBe(201);
  });

  it("closed: nobody signs up on their own, not even with a workspace invitation; an operator's pass lets one in", async () => {
    const { token } = await workspaceInvitation("invited@example.com");
    mode("closed");
    const before = await accountEmails();
    await expectRefused(await signUp({ email: "stranger@example.com" }), 403, "signup_closed");
    await expectRefused(await signUp({ email: "invited@example.com", invitation: token }), 403, "signup_closed");
    expect(await accountEmails()).toEqual(before);
    const pass = await signUpPass("approved@example.com");
    await expectRefused(await signUp({ email: "other@example.com", invitation: pass }), 403, "invitation_other_email");
    expect((await signUp({ email: "approved@example.com", invitation: pass })).status).toBe(201);
    // The pass is used up.
    await expectRefused(await signUp({ email: "approved@example.com", invitation: pass }), 409, "invitation_used");
  });

  it("invite: without a token 403, with a wrong, another's or a made-up token 4xx, and nothing is created", async () => {
    const { token } = await workspaceInvitation("invited@example.com");
    mode("invite");
    const before = await accountEmails();
    await expectRefused(await signUp({ email: "invited@example.com" }), 403, "invitation_required");
    await expectRefused(await signUp({ email: "intruder@example.com", invitation: token }), 403, "invitation_other_email");
    await expectRefused(await signUp({ email: "invited@example.com", invitation: token.slice(0, -2) + "zz" }), 404, "invitation_not_found");
    await expectRefused(await signUp({ email: "invited@example.com", invitation: "enc_inv_nonsense" }), 404, "invitation_not_found");
    expect(await accountEmails()).toEqual(before);
  });

  it("invite: a valid token for that email creates the account and joins its workspace with the role (mail off)", async () => {
    const fx = await workspaceInvitation("Newcomer@Example.com", "viewer");
    mode("invite");
    const signedUp = await signUp({ email: "newcomer@example.com", invitation: fx.token });
    expect(signedUp.status).toBe(201);
    const body = await jsonOf<{ user: { id: string }; invitation: { workspaceId: string; joined: boolean } }>(signedUp);
    expect(body.invitation).toEqual({ workspaceId: fx.workspaceId, joined: true });
    const cookie = signedUp.headers.get("set-cookie")!.split(";")[0]!;
    const listed = await jsonOf<{ workspaces: { id: string; role: string }[] }>(await request("/api/workspaces", { cookie }));
    expect(listed.workspaces.map((w) => [w.id, w.role])).toEqual([[fx.workspaceId, "viewer"]]);
    // The link is now used: a second account cannot ride on it (the email is taken anyway, and the invitation is spent).
    await expectRefused(await signUp({ email: "newcomer@example.com", invitation: fx.token }), 409, "invitation_used");
  });

  it("invite: an expired or revoked invitation does not let anyone sign up", async () => {
    const fx = await workspaceInvitation("late@example.com");
    const ownerCookie = await sessionCookieForUser(fx.owner.id);
    const [pending] = (await jsonOf<{ items: { id: string }[] }>(await request(workspacePath(fx.workspaceId, "/invitations"), { cookie: ownerCookie }))).items;
    expect((await request(workspacePath(fx.workspaceId, `/invitations/${pending!.id}`), { cookie: ownerCookie, method: "DELETE" })).status).toBe(204);
    mode("invite");
    await expectRefused(await signUp({ email: "late@example.com", invitation: fx.token }), 410, "invitation_revoked");
    expect(await accountEmails()).not.toContain("late@example.com");
  });

  it("the CLI's `user create` is the operator's way in whatever the mode (sign-up is not asked)", async () => {
    mode("closed");
    const { createUser } = await import("@/lib/auth/users");
    await createUser({ email: "first@example.com", password: PASSWORD }, { type: "system", id: "cli" });
    expect(await accountEmails()).toContain("first@example.com");
  });
});
