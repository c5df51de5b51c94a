import type { Page } from "@playwright/test";
import { createWorkspace, expect, failOnPageErrors, PASSWORD, signedInAccount, signIn, test, watchCsp, workspaceIdFrom } from "./fixtures";

/** Workspace transfer and deletion, and account closure with its hold, as a person does them in the browser. */

failOnPageErrors();

const closingHeading = (page: Page) => page.getByRole("heading", { level: 1, name: /^Your account closes on \d{4}-\d\d-\d\d/ });

test("the owner hands a workspace to a member and stays on as admin", async ({ page, browser, cspViolations }) => {
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  watchCsp(otherPage, cspViolations);
  const memberEmail = await signedInAccount(otherPage, "heir");

  await signedInAccount(page, "founder");
  const href = await createWorkspace(page, "Handover");
  await page.goto(`${href}/members`);
  const add = page.getByRole("form", { name: "Add a member" });
  await add.getByLabel("Email").fill(memberEmail);
  await add.getByRole("button", { name: "Add member" }).click();
  // Adding invites: the heir opens the link, signed in with the invited email, and accepts.
  await otherPage.goto(await add.getByLabel("Invitation link").inputValue());
  await otherPage.getByRole("button", { name: "Accept invitation" }).click();
  await expect(otherPage.getByRole("heading", { level: 1, name: "Handover" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("table", { name: "Members" })).toContainText(memberEmail);

  await page.goto(`${href}/settings`);
  await expect(page.getByRole("heading", { name: "Transfer ownership" })).toBeVisible();
  const transfer = page.getByRole("form", { name: "Transfer ownership" });
  await transfer.getByLabel("New owner").selectOption({ label: `${memberEmail} (member)` });
  await transfer.getByRole("button", { name: "Transfer ownership" }).click();
  await transfer.getByRole("button", { name: "Yes, transfer" }).click();
  // Now an admin: the owner-only sections are gone, and the frame says so.
  await expect(page.getByRole("heading", { name: "Transfer ownership" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Delete workspace" })).toHaveCount(0);
  await expect(page.getByText("Handover · admin")).toBeVisible();

  await otherPage.goto(`${href}/settings`);
  await expect(otherPage.getByText("Handover · owner")).toBeVisible();
  await expect(otherPage.getByRole("heading", { name: "Delete workspace" })).toBeVisible();
  await other.close();
});

test("deleting a workspace needs its name; it answers 404 until its owner restores it", async ({ page }) => {
  await signedInAccount(page, "deleter");
  const href = await createWorkspace(page, "Scratch");
  const workspaceId = workspaceIdFrom(href);
  await page.goto(`${href}/settings`);
  const form = page.getByRole("form", { name: "Delete workspace" });
  await form.getByLabel("Type “Scratch” to confirm").fill("scratch");
  await form.getByRole("button", { name: "Delete workspace" }).click();
  await expect(form.getByRole("alert")).toContainText("exactly");
  await form.getByLabel("Type “Scratch” to confirm").fill("Scratch");
  await form.getByRole("button", { name: "Delete workspace" }).click();

  await expect(page.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();
  const deleted = page.getByRole("list", { name: "Deleted workspaces" });
  await expect(deleted).toContainText("Scratch");
  await expect(page.getByRole("list", { name: "Your workspaces" })).toHaveCount(0);
  expect((await page.goto(href))?.status()).toBe(404);
  expect((await page.request.get(`/api/v1/workspaces/${workspaceId}/knowledge`)).status()).toBe(404);

  await page.goto("/workspaces");
  await page.getByRole("button", { name: "Restore Scratch" }).click();
  await expect(page.getByRole("list", { name: "Your workspaces" }).getByRole("link", { name: "Scratch" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Deleted workspaces" })).toHaveCount(0);
  expect((await page.goto(href))?.status()).toBe(200);
});

test("closing the account signs out; signing in again shows only the closing page until the closure is cancelled", async ({ page }) => {
  const email = await signedInAccount(page, "leaver");
  const href = await createWorkspace(page, "Mine");

  await page.goto("/account/data/close");
  await expect(page.getByRole("heading", { name: "Close my account", level: 1 })).toBeVisible();
  await expect(page.getByRole("list", { name: "Workspaces deleted with your account" })).toContainText("Mine");
  const form = page.getByRole("form", { name: "Close my account" });
  await form.getByLabel("Password").fill("not the password at all");
  await form.getByRole("button", { name: "Close my account" }).click();
  await form.getByRole("button", { name: "Yes, close my account" }).click();
  await expect(form.getByRole("alert")).toHaveText("That password is not correct.");
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByRole("button", { name: "Close my account" }).click();
  await form.getByRole("button", { name: "Yes, close my account" }).click();
  await expect(page.getByRole("heading", { name: "Your account is closing" })).toBeVisible();

  // Signed out: the portal sends the browser to sign in.
  await page.goto("/workspaces");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await signIn(page, email);
  await expect(closingHeading(page)).toBeVisible();
  for (const path of ["/workspaces", "/account", "/account/data/close", href, `${href}/settings`, "/"]) {
    await page.goto(path);
    await expect(closingHeading(page), path).toBeVisible();
  }
  // An AI client asking to connect: its consent page too sends a closing account to the closing page.
  const registered = await page.request.post("/oauth/register", {
    data: { client_name: "Late client", redirect_uris: ["http://127.0.0.1:43117/callback"], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "none" },
  });
  expect(registered.status()).toBe(201);
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const consent = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: "http://127.0.0.1:43117/callback", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", scope: "search", state: "s" });
  await page.goto(`/oauth/authorize?${consent.toString()}`);
  await expect(closingHeading(page)).toBeVisible();
  expect((await page.request.get("/api/workspaces")).status()).toBe(403);
  expect((await page.request.get(`/api/v1/workspaces/${workspaceIdFrom(href)}/knowledge`)).status()).toBe(403);

  await page.getByRole("button", { name: "Cancel closure" }).click();
  await expect(page.getByRole("list", { name: "Your workspaces" }).getByRole("link", { name: "Mine" })).toBeVisible();
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Account", level: 1 })).toBeVisible();
});
