import type { Page } from "@playwright/test";
import { createWorkspace, expect, failOnPageErrors, signedInAccount, test, workspaceIdFrom } from "./fixtures";

const workspaceNav = (page: Page) => page.getByRole("navigation", { name: "Workspace" });
const trail = (page: Page) => page.getByRole("table", { name: "Audit trail" });
const bodyRows = (page: Page) => trail(page).locator("tbody tr");

failOnPageErrors();

test("an admin reads the audit trail: chain status, a filter by action, pages and a row's details; a member is told the scope it needs, and the refusal is in the trail", async ({ page, browser }) => {
  await signedInAccount(page, "audit-admin");
  const href = await createWorkspace(page, "Audited");
  const workspaceId = workspaceIdFrom(href);
  // 55 writes through the API with the admin's own session: 55 knowledge.create rows, more than a page.
  for (let i = 0; i < 55; i++) {
    const written = await page.request.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: `Entry ${i}`, body: "text" } });
    expect(written.status()).toBe(201);
  }
  // A member, in a browser of their own, added by the admin.
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  const memberEmail = await signedInAccount(member, "audit-member");
  const added = await page.request.post(`/api/v1/workspaces/${workspaceId}/members`, { data: { email: memberEmail, role: "member" } });
  expect(added.status()).toBe(201);
  // Adding invites: the member accepts the link, signed in with the invited email.
  const { link } = (await added.json()) as { link: string };
  const accepted = await member.request.post("/api/invitations/accept", { data: { token: new URL(link).searchParams.get("token") } });
  expect(accepted.status()).toBe(200);

  await page.goto(href);
  await workspaceNav(page).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit" })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: /Chain verified through #\d+/ })).toBeVisible();
  await expect(page.getByRole("link", { name: "Evidence bundle" })).toHaveAttribute("href", `/w/${workspaceId}/audit/evidence`);

  const filters = page.getByRole("form", { name: "Filter the audit trail" });
  await filters.getByLabel("Action").fill("knowledge.create");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=knowledge\.create/);
  await expect(bodyRows(page)).toHaveCount(50);
  await expect(trail(page).getByRole("rowheader").filter({ hasNotText: "knowledge.create" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "← Newer" })).toHaveCount(0);

  const pages = page.getByRole("navigation", { name: "Pages" });
  await pages.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(page).toHaveURL(/action=knowledge\.create/);
  await expect(bodyRows(page)).toHaveCount(5);
  await expect(pages.getByRole("link", { name: "Older →" })).toHaveCount(0);
  const oldest = bodyRows(page).last();
  await oldest.getByText("Details", { exact: true }).click();
  await expect(oldest.locator("pre")).toContainText('"title": "Entry 0"');

  await pages.getByRole("link", { name: "← Newer" }).click();
  await expect(bodyRows(page)).toHaveCount(50);
  await expect(bodyRows(page).first()).toContainText("knowledge.create");

  // A bad filter is refused with the reason, not an error page.
  await page.goto(`/w/${workspaceId}/audit?from=yesterday`);
  await expect(page.getByText(/Use an ISO 8601 date/)).toBeVisible();

  await member.goto(href);
  await expect(workspaceNav(member).getByRole("link", { name: "Knowledge" })).toBeVisible();
  await expect(workspaceNav(member).getByRole("link", { name: "Audit" })).toHaveCount(0);
  await member.goto(`/w/${workspaceId}/audit`);
  await expect(member.getByRole("heading", { name: "You need the “audit” scope" })).toBeVisible();
  await expect(member.getByRole("table", { name: "Audit trail" })).toHaveCount(0);
  await memberContext.close();

  await page.goto(`/w/${workspaceId}/audit?action=access.denied`);
  await expect(bodyRows(page)).toHaveCount(1);
  await expect(bodyRows(page).first()).toContainText(memberEmail);

  // Account › Activity: the admin's own control rows (the CLI made the account, the page signed in, the invitation), not the member's.
  await page.goto("/account");
  await page.getByRole("link", { name: /Your sign-ins/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Activity" })).toBeVisible();
  const activity = page.getByRole("table", { name: "Your activity" });
  await expect(activity).toContainText("workspace.create");
  await expect(activity).toContainText("user.create");
  await expect(activity).toContainText("user.sign_in");
  // Adding the member was an invitation by the admin; the member.add row is the member's own, when they accepted.
  await expect(activity).toContainText("invitation.created");
  await expect(activity).not.toContainText("member.add");
  await expect(activity).not.toContainText(memberEmail);
});
