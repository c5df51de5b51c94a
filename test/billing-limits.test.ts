import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { endpointList } from "@/lib/api/endpoints";
import { closeStore } from "@/lib/db/store";
import { resetRateLimits } from "@/lib/http/rate-limits";
import { userInWorkspace } from "./api";
import { expectPlanLimit, freeWorkspace, rowsOf, setSubscriptionStatus, subscribe } from "./billing-limits-fixtures";
import { runEnclave } from "./cli-helpers";
import { jsonOf, request, workspacePath } from "./harness";
import { tokenOfLink } from "./invitations";
import { billingEnv, razorpayKeys, startFakeRazorpay, writePlansFile } from "./razorpay";
import { useTempStore } from "./store";

/**
 * The plan's member and team-token limits, on every way in: REST with a team token, the portal
 * (the same route with the session cookie, as the browser sends it), the CLI, and accepting an
 * invitation issued before a downgrade. Past the limit: 402 naming the plan and the limit, and
 * not a row more. Storage, AI clients and billing off are in billing-limits-data.test.ts.
 */
const keys = razorpayKeys();
const fake = await startFakeRazorpay(keys);
afterAll(() => fake.close());
const env = billingEnv(keys, fake.url, writePlansFile());
const store = useTempStore(env);
beforeEach(() => resetRateLimits());

const invite = (workspaceId: string, auth: { token?: string; cookie?: string }, email: string, role = "member") =>
  request(workspacePath(workspaceId, "/members"), { ...auth, body: { email, role } });
const accept = (cookie: string, link: string) => request("/api/invitations/accept", { cookie, body: { token: tokenOfLink(link) } });
const issueToken = (workspaceId: string, cookie: string) => request(workspacePath(workspaceId, "/tokens"), { cookie, body: { name: "more", role: "viewer" } });
// Each CLI run starts Node and tsx afresh: seconds apiece on a busy machine.
const SLOW = { timeout: 120_000 };

/** The CLI on this test's data dir, with the same billing configuration; the store is closed first so the CLI owns the files meanwhile. */
async function enclave(...args: string[]) {
  await closeStore();
  return runEnclave(store.dataDir(), args, { env });
}

describe("the member limit (free: 2, pending invitations included)", () => {
  it("REST with an admin token and the portal with the owner's cookie: the invitation past the limit is a 402 and is not made", async () => {
    const ws = await freeWorkspace();
    expect((await invite(ws.workspaceId, { token: ws.admin }, "first@example.com")).status).toBe(201);
    const pending = await rowsOf("invitations", ws.workspaceId);
    expect(pending).toBe(1);

    await expectPlanLimit(await invite(ws.workspaceId, { token: ws.admin }, "second@example.com"), "members", 2, 2);
    await expectPlanLimit(await invite(ws.workspaceId, { cookie: ws.ownerCookie }, "third@example.com", "viewer"), "members", 2, 2);
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(pending);
    expect(await rowsOf("memberships", ws.workspaceId)).toBe(1);

    // A new link for the one already invited replaces the old: it takes no new place.
    expect((await invite(ws.workspaceId, { cookie: ws.ownerCookie }, "first@example.com", "viewer")).status).toBe(201);
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(1);
    // Withdrawing it makes room again.
    const [listed] = (await jsonOf<{ items: { id: string }[] }>(await request(workspacePath(ws.workspaceId, "/invitations"), { token: ws.admin }))).items;
    expect((await request(workspacePath(ws.workspaceId, `/invitations/${listed!.id}`), { token: ws.admin, method: "DELETE" })).status).toBe(204);
    expect((await invite(ws.workspaceId, { token: ws.admin }, "second@example.com")).status).toBe(201);
  });

  it("enclave workspace invite prints the invitation and its link, and past the limit exits 1 with the 402's message", SLOW, async () => {
    const ws = await freeWorkspace();
    const invited = await enclave("workspace", "invite", "--workspace", ws.workspaceId, "--email", "grace@example.com", "--role", "member");
    expect(invited.stderr).toBe("");
    expect(invited.status).toBe(0);
    expect(invited.stdout).toMatch(new RegExp(`invited grace@example\\.com as member to workspace ${ws.workspaceId}: invitation inv_[0-9a-f]{32}`));
    const link = invited.stdout.split("\n").at(-1)!;
    expect(link).toMatch(/\/invite\?token=enc_inv_/);

    const refused = await enclave("workspace", "invite", "--workspace", ws.workspaceId, "--email", "alan@example.com", "--role", "viewer");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^enclave: The Free plan allows 2 members \(pending invitations included\); this workspace has 2\. Nothing was changed/);
    expect(refused.stdout).toBe("");
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(1);

    // The link the CLI printed works for the person it names.
    const grace = await userInWorkspace(ws.workspaceId, null, "grace@example.com");
    expect((await accept(grace.cookie, link)).status).toBe(200);
    expect(await rowsOf("memberships", ws.workspaceId)).toBe(2);

    // Bad input is a usage error (exit 2), before anything is counted.
    const owner = await enclave("workspace", "invite", "--workspace", ws.workspaceId, "--email", "x@example.com", "--role", "owner");
    expect(owner.status).toBe(2);
    expect(owner.stderr).toMatch(/--role/);
  });

  it("accepting an invitation issued before a downgrade is refused once the memberships alone fill the plan", async () => {
    const ws = await freeWorkspace();
    const subscription = await subscribe(ws.workspaceId, ws.owner.id, "team");
    const people = await Promise.all(["ana", "ben", "cy"].map((name) => userInWorkspace(ws.workspaceId, null, `${name}@example.com`)));
    const links: string[] = [];
    for (const person of people) {
      const answer = await invite(ws.workspaceId, { token: ws.admin }, person.user.email);
      expect(answer.status).toBe(201);
      links.push((await jsonOf<{ link: string }>(answer)).link);
    }
    expect((await accept(people[0]!.cookie, links[0]!)).status).toBe(200);

    await setSubscriptionStatus(subscription, "cancelled");
    // Two members now: the free plan's two places are taken, so the others' invitations cannot be used.
    const refused = await accept(people[1]!.cookie, links[1]!);
    expect((await jsonOf(refused.clone())).message).toMatch(/^The Free plan allows 2 members; this workspace has 2\./);
    await expectPlanLimit(refused, "members", 2, 2);
    expect(await rowsOf("memberships", ws.workspaceId)).toBe(2);
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(2);
    // Nobody was removed: the downgrade only stops growth.
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { cookie: people[0]!.cookie })).status).toBe(200);

    // Paid again: the same invitation works.
    await subscribe(ws.workspaceId, ws.owner.id, "team");
    expect((await accept(people[1]!.cookie, links[1]!)).status).toBe(200);
  });
});

describe("the last place", () => {
  it("two requests at once for it: exactly one gets it", async () => {
    const ws = await freeWorkspace();
    const answers = await Promise.all(["one@example.com", "two@example.com", "three@example.com"].map((email) => invite(ws.workspaceId, { token: ws.admin }, email)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 402, 402]);
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(1);

    const [only] = (await jsonOf<{ items: { id: string }[] }>(await request(workspacePath(ws.workspaceId, "/tokens"), { cookie: ws.ownerCookie }))).items;
    expect((await request(workspacePath(ws.workspaceId, `/tokens/${only!.id}`), { cookie: ws.ownerCookie, method: "DELETE" })).status).toBe(204);
    const issued = await Promise.all([1, 2, 3].map(() => issueToken(ws.workspaceId, ws.ownerCookie)));
    expect(issued.map((answer) => answer.status).sort()).toEqual([201, 402, 402]);
    expect(await rowsOf("team_tokens", ws.workspaceId)).toBe(2);
  });
});

describe("the team-token limit (free: 1)", () => {
  it("REST (the owner's session, as the portal sends it) and enclave token create are refused past it; nothing is issued", SLOW, async () => {
    const ws = await freeWorkspace();
    await expectPlanLimit(await issueToken(ws.workspaceId, ws.ownerCookie), "teamTokens", 1, 1);
    expect(await rowsOf("team_tokens", ws.workspaceId)).toBe(1);

    const refused = await enclave("token", "create", "--workspace", ws.workspaceId, "--role", "viewer");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^enclave: The Free plan allows 1 team token; this workspace has 1\./);
    expect(refused.stdout).not.toMatch(/enc_/);
    expect(await rowsOf("team_tokens", ws.workspaceId)).toBe(1);

    // Revoking the one token makes room for another.
    const [only] = (await jsonOf<{ items: { id: string }[] }>(await request(workspacePath(ws.workspaceId, "/tokens"), { cookie: ws.ownerCookie }))).items;
    expect((await request(workspacePath(ws.workspaceId, `/tokens/${only!.id}`), { cookie: ws.ownerCookie, method: "DELETE" })).status).toBe(204);
    const issued = await enclave("token", "create", "--workspace", ws.workspaceId, "--role", "viewer");
    expect(issued.status).toBe(0);
  });
});

describe("a paid plan", () => {
  it("lifts the limits while it is paid; cancelled, the free limits are back for new things only", async () => {
    const ws = await freeWorkspace();
    const subscription = await subscribe(ws.workspaceId, ws.owner.id, "team");
    const issued = await issueToken(ws.workspaceId, ws.ownerCookie);
    expect(issued.status).toBe(201);
    const second = (await jsonOf<{ token: string }>(issued)).token;
    for (const email of ["p@example.com", "q@example.com"]) expect((await invite(ws.workspaceId, { token: ws.admin }, email)).status).toBe(201);

    await setSubscriptionStatus(subscription, "cancelled");
    // Over the free plan now: what exists stays and still works; only new things are refused.
    expect(await rowsOf("team_tokens", ws.workspaceId)).toBe(2);
    expect((await request(workspacePath(ws.workspaceId, "/knowledge"), { token: second })).status).toBe(200);
    expect(await rowsOf("invitations", ws.workspaceId)).toBe(2);
    await expectPlanLimit(await issueToken(ws.workspaceId, ws.ownerCookie), "teamTokens", 1, 2);
    await expectPlanLimit(await invite(ws.workspaceId, { token: ws.admin }, "r@example.com"), "members", 2, 3);

    // A subscription that is not paid for (halted: the retries failed) counts as none.
    await subscribe(ws.workspaceId, ws.owner.id, "team", "halted");
    await expectPlanLimit(await issueToken(ws.workspaceId, ws.ownerCookie), "teamTokens", 1, 2);
    await subscribe(ws.workspaceId, ws.owner.id, "business");
    expect((await issueToken(ws.workspaceId, ws.ownerCookie)).status).toBe(201);
  });
});

describe("the OpenAPI document", () => {
  it("lists the 402 on every endpoint that meets a plan limit, and on no other", async () => {
    const document = (await (await request("/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect((await new Validator().validate(document)).errors ?? []).toEqual([]);
    const limited: string[] = endpointList.filter((endpoint) => "planLimit" in endpoint).map((endpoint) => endpoint.operationId);
    expect(limited.sort()).toEqual(["addMember", "createKnowledge", "createLink", "issueToken", "publishEvent", "putArtifact", "putSession", "updateKnowledge"]);
    for (const endpoint of endpointList) {
      const responses = document.paths[endpoint.path]?.[endpoint.method.toLowerCase()]?.responses ?? {};
      expect(Object.keys(responses).includes("402"), endpoint.operationId).toBe(limited.includes(endpoint.operationId));
    }
  });
});
