import { randomInt } from "node:crypto";
import type { Page } from "@playwright/test";
import { bearerClient, createWorkspace, expect, failOnPageErrors, signUp, test, uniqueEmail, watchCsp, workspaceIdFrom } from "./fixtures";

const TOKEN_SHAPE = /^enc_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/;
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** A GitHub-shaped token made at run time, so no secret-looking string is committed. */
const fakeGithubToken = () => `ghp_${Array.from({ length: 36 }, () => ALNUM[randomInt(ALNUM.length)]).join("")}`;

/** Signs up a fresh admin with one workspace and opens it; returns its href and id. */
async function adminWithWorkspace(page: Page, name: string) {
  await signUp(page, uniqueEmail("admin"));
  const href = await createWorkspace(page, name);
  await page.goto(href);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  return { href, workspaceId: workspaceIdFrom(href) };
}

const workspaceNav = (page: Page) => page.getByRole("navigation", { name: "Workspace" });

failOnPageErrors();

test("a member token is shown once, works against the API, and is refused once revoked", async ({ page, context, playwright, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const { workspaceId } = await adminWithWorkspace(page, "Token test");
  await workspaceNav(page).getByRole("link", { name: "Tokens" }).click();
  await expect(page.getByRole("heading", { name: "Team tokens" })).toBeVisible();

  const form = page.getByRole("form", { name: "New team token" });
  await form.getByLabel("Token name").fill("ci-bot");
  await form.getByLabel("Role").selectOption("member");
  await form.getByRole("button", { name: "Create token" }).click();

  const shown = page.getByRole("textbox", { name: "New token" });
  await expect(shown).toBeVisible();
  const token = await shown.inputValue();
  expect(token).toMatch(TOKEN_SHAPE);
  await expect(shown).toHaveAttribute("readonly", "");
  await expect(page.getByText("It will not be shown again")).toBeVisible();
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByText("Copied to the clipboard.")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

  const row = page.getByRole("table", { name: "Team tokens" }).getByRole("row", { name: /ci-bot/ });
  await expect(row).toContainText("member");
  await expect(row).toContainText("active");

  // A reload renders the page afresh from the server, which has only the token's hash.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Team tokens" })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "New token" })).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  const api = await bearerClient(playwright, baseURL, token);
  const created = await api.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "From CI", body: "Pushed by a token.", tags: ["ci"] } });
  expect(created.status()).toBe(201);
  expect(((await created.json()) as { entry: { author: string } }).entry.author).toMatch(/^token:/);

  await row.getByRole("button", { name: "Revoke ci-bot" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(row).toContainText("revoked");
  await expect(row.getByRole("button", { name: "Revoke ci-bot" })).toHaveCount(0);

  const refused = await api.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "After revoke", body: "Should not land." } });
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ error: "invalid_token" });
  await api.dispose();
});

test("a custom-scope token carries only what was ticked: search answers, a knowledge write is refused", async ({ page, playwright, baseURL }) => {
  const { workspaceId } = await adminWithWorkspace(page, "Scoped tokens");
  await workspaceNav(page).getByRole("link", { name: "Tokens" }).click();
  const form = page.getByRole("form", { name: "New team token" });
  const access = form.getByRole("group", { name: "Access" });
  await expect(access.getByRole("radio", { name: "Preset" })).toBeChecked();

  await form.getByLabel("Token name").fill("search-bot");
  await access.getByRole("radio", { name: "Custom scopes" }).check();
  await expect(form.getByRole("combobox", { name: "Role" })).toHaveCount(0);
  const scopes = form.getByRole("group", { name: "Scopes" });
  // What tokens may carry (nothing above admin), all of it within this owner's role.
  await expect(scopes.getByRole("checkbox")).toHaveCount(13);
  await expect(scopes.getByRole("checkbox", { name: /billing|ownership|workspace:delete/ })).toHaveCount(0);
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByRole("alert")).toHaveText("Choose at least one scope.");

  await scopes.getByRole("checkbox", { name: "Read and search knowledge, agent sessions and artifacts search", exact: true }).check();
  await form.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByRole("textbox", { name: "New token" });
  await expect(shown).toBeVisible();
  const token = await shown.inputValue();
  expect(token).toMatch(TOKEN_SHAPE);
  await expect(form.getByRole("alert")).toHaveCount(0);
  await expect(form.getByLabel("Role")).toHaveValue("member");

  const row = page.getByRole("table", { name: "Team tokens" }).getByRole("row", { name: /search-bot/ });
  await expect(row.getByRole("cell").first()).toContainText("custom");
  await expect(row.locator("small")).toHaveText("search");

  const api = await bearerClient(playwright, baseURL, token);
  const searched = await api.get(`/api/v1/workspaces/${workspaceId}/search?q=anything`);
  expect(searched.status()).toBe(200);
  const write = await api.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "Not allowed", body: "This token may only search." } });
  expect(write.status()).toBe(403);
  expect(await write.json()).toMatchObject({ error: "insufficient_scope" });
  await api.dispose();
});

test("knowledge: create, view, edit, conflicting edit, search with highlights, delete; a secret is redacted with a notice", async ({ page }) => {
  const { workspaceId } = await adminWithWorkspace(page, "Runbooks");
  const secret = fakeGithubToken();
  await workspaceNav(page).getByRole("link", { name: "Knowledge" }).click();
  await page.getByRole("link", { name: "New entry" }).click();

  const create = page.getByRole("form", { name: "New knowledge entry" });
  await create.getByLabel("Title").fill("Deploy runbook");
  await create.getByLabel("Body (Markdown)").fill(`# Deploy\n\nRun the release script.\nGITHUB token: ${secret}\n`);
  await create.getByLabel("Tags").fill("ops, deploy");
  await create.getByRole("button", { name: "Create entry" }).click();

  await expect(page.getByRole("heading", { level: 1, name: "Deploy runbook" })).toBeVisible();
  await expect(page.getByText("Saved. 1 secret was redacted (github_token).")).toBeVisible();
  const body = page.getByRole("region", { name: "Body" });
  await expect(body).toContainText("GITHUB token: [REDACTED:github_token]");
  await expect(body).toContainText("# Deploy");
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByRole("list", { name: "Tags" }).getByRole("listitem")).toHaveText(["ops", "deploy"]);
  const entryUrl = page.url();
  const entryId = entryUrl.split("/").at(-1) ?? "";
  expect(entryId).toMatch(/^kn_[0-9a-f]{32}$/);

  await page.getByRole("link", { name: "Edit" }).click();
  const edit = page.getByRole("form", { name: "Edit knowledge entry" });
  await edit.getByLabel("Title").fill("Deploy runbook v2");
  await edit.getByLabel("Body (Markdown)").fill("# Deploy\n\nRun the release script.\nRollback with the previous tag.\n");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Deploy runbook v2" })).toBeVisible();
  await expect(page.getByText("Saved.", { exact: true })).toBeVisible();
  await expect(page.locator(".meta dt:text-is('Version') + dd")).toHaveText("2");

  // Someone else saves while this editor is open: the stale save is refused, nothing overwritten.
  await page.getByRole("link", { name: "Edit" }).click();
  const patched = await page.request.patch(`/api/v1/workspaces/${workspaceId}/knowledge/${entryId}`, { data: { tags: ["ops", "deploy", "rollback"] } });
  expect(patched.status()).toBe(200);
  await edit.getByLabel("Title").fill("Stale title");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(edit.getByRole("alert")).toHaveText("Someone changed this entry since you read it (now version 3).");
  await page.goto(entryUrl);
  await expect(page.getByRole("heading", { level: 1, name: "Deploy runbook v2" })).toBeVisible();

  await workspaceNav(page).getByRole("link", { name: "Search" }).click();
  await page.getByRole("searchbox", { name: "Search knowledge" }).fill("rollback");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const results = page.getByRole("list", { name: "Search results" });
  await expect(results.getByRole("link", { name: "Deploy runbook v2" })).toBeVisible();
  await expect(results.locator("mark").first()).toHaveText(/^rollback$/i);

  await results.getByRole("link", { name: "Deploy runbook v2" }).click();
  await page.getByRole("button", { name: "Delete entry" }).click();
  await expect(page.getByText("Delete this entry and its links? This cannot be undone.")).toBeVisible();
  await page.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Knowledge" })).toBeVisible();
  await expect(page.getByText("Deleted “Deploy runbook v2”.")).toBeVisible();
  await expect(page.getByText("No knowledge entries yet.")).toBeVisible();
  const gone = await page.request.get(`/api/v1/workspaces/${workspaceId}/knowledge/${entryId}`);
  expect(gone.status()).toBe(404);
});

test("stored markup is shown as text: no element, no script, no dialog, no CSP report", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await adminWithWorkspace(page, "Hostile input");
  const title = "<img src=x onerror=alert(1)>";
  const bodyText = `<script>alert("xss")</script> findme <img src=x onerror=alert(2)> [link](javascript:alert(3))`;
  await workspaceNav(page).getByRole("link", { name: "Knowledge" }).click();
  await page.getByRole("link", { name: "New entry" }).click();
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Body (Markdown)").fill(bodyText);
  await page.getByRole("button", { name: "Create entry" }).click();

  const article = page.getByRole("article");
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.getByRole("region", { name: "Body" })).toHaveText(bodyText);
  await expect(article.locator("img, script, a[href^='javascript']")).toHaveCount(0);

  await workspaceNav(page).getByRole("link", { name: "Knowledge" }).click();
  await expect(page.getByRole("list", { name: "Knowledge entries" }).getByRole("link", { name: title })).toBeVisible();

  await workspaceNav(page).getByRole("link", { name: "Search" }).click();
  await page.getByRole("searchbox", { name: "Search knowledge" }).fill("findme script");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const results = page.getByRole("list", { name: "Search results" });
  await expect(results.getByRole("link", { name: title })).toBeVisible();
  await expect(results.locator(".snippet")).toContainText(`<script>alert("xss")</script> findme <img src=x onerror=alert(2)>`);
  await expect(results.locator("mark")).toHaveText(["script", "script", "findme"]);
  await expect(results.locator("img, script")).toHaveCount(0);

  await page.reload();
  expect(dialogs).toEqual([]);
});

test("events: new events appear live, from the form and from a token, without a reload", async ({ page, playwright, baseURL }) => {
  const { workspaceId } = await adminWithWorkspace(page, "Event stream");
  await workspaceNav(page).getByRole("link", { name: "Events" }).click();
  await expect(page.getByText(/^Live:/)).toBeVisible();
  await page.evaluate(() => document.body.setAttribute("data-not-reloaded", "yes"));

  const form = page.getByRole("form", { name: "Publish a test event" });
  await form.getByLabel("Event type").fill("deploy.started");
  await form.getByLabel("Payload (JSON)").fill('{"env": "prod"}');
  await form.getByRole("button", { name: "Publish event" }).click();
  const list = page.getByRole("list", { name: "Latest events" });
  await expect(list.getByRole("listitem").first()).toContainText("deploy.started");

  const issued = await page.request.post(`/api/v1/workspaces/${workspaceId}/tokens`, { data: { name: "events-bot", role: "member" } });
  expect(issued.status()).toBe(201);
  const { token } = (await issued.json()) as { token: string };
  const api = await bearerClient(playwright, baseURL, token);
  const published = await api.post(`/api/v1/workspaces/${workspaceId}/events`, { data: { type: "build.finished", payload: { ok: true } } });
  expect(published.status()).toBe(201);
  await expect(list.getByRole("listitem").first()).toContainText("build.finished");
  await expect(list.getByRole("listitem").first()).toContainText("token:");
  await expect(list.getByRole("listitem")).toHaveCount(2);
  await api.dispose();

  await expect(page.locator("body")).toHaveAttribute("data-not-reloaded", "yes");
  // The server render shows the same events after a reload.
  await page.reload();
  await expect(list.getByRole("listitem")).toHaveCount(2);
});

test("members: a viewer sees no admin links, gets the scope page for tokens, and cannot write; roles change and removal apply", async ({
  page,
  browser,
  cspViolations,
}) => {
  const viewerEmail = uniqueEmail("viewer");
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  watchCsp(viewer, cspViolations);
  await signUp(viewer, viewerEmail);

  const { href, workspaceId } = await adminWithWorkspace(page, "Team space");
  await workspaceNav(page).getByRole("link", { name: "Members" }).click();
  const members = page.getByRole("table", { name: "Members" });
  await expect(members.getByRole("row")).toHaveCount(2);

  // The only owner cannot step down: the API's message is shown and the role stays.
  const me = members.getByRole("row", { name: /\(you\)/ });
  await me.getByRole("combobox").selectOption("admin");
  await me.getByRole("button", { name: /^Save role for/ }).click();
  await expect(me.getByRole("alert")).toHaveText("A workspace needs an owner: make someone else owner first.");
  await expect(me.getByRole("combobox")).toHaveValue("owner");

  // Adding by email invites, and answers the same whether or not the address has an account.
  const add = page.getByRole("form", { name: "Add a member" });
  const nobody = uniqueEmail("nobody");
  await add.getByLabel("Email").fill(nobody);
  await add.getByLabel("Role").selectOption("viewer");
  await add.getByRole("button", { name: "Add member" }).click();
  await expect(add.getByText(`Invited ${nobody} as viewer.`, { exact: false })).toBeVisible();
  await add.getByLabel("Email").fill(viewerEmail);
  await add.getByLabel("Role").selectOption("viewer");
  await add.getByRole("button", { name: "Add member" }).click();
  await expect(add.getByText(`Invited ${viewerEmail} as viewer.`, { exact: false })).toBeVisible();
  const link = await add.getByLabel("Invitation link").inputValue();
  await expect(page.getByRole("table", { name: "Pending invitations" })).toContainText(viewerEmail);
  // The invited person opens the link signed in with that email and accepts.
  await viewer.goto(link);
  await expect(viewer.getByText("You are invited to the workspace Team space as viewer.")).toBeVisible();
  await viewer.getByRole("button", { name: "Accept invitation" }).click();
  await expect(viewer.getByRole("heading", { level: 1, name: "Team space" })).toBeVisible();
  await page.reload();
  const viewerRow = members.getByRole("row", { name: new RegExp(viewerEmail.replace(/[.+]/g, "\\$&")) });
  await expect(viewerRow.getByRole("combobox", { name: `Role for ${viewerEmail}` })).toHaveValue("viewer");

  await viewer.goto(href);
  await expect(viewer.getByRole("heading", { level: 1, name: "Team space" })).toBeVisible();
  const viewerNav = workspaceNav(viewer);
  await expect(viewerNav.getByRole("link", { name: "Knowledge" })).toBeVisible();
  for (const admin of ["Tokens", "Members", "Settings"]) await expect(viewerNav.getByRole("link", { name: admin })).toHaveCount(0);

  for (const [section, scope] of [["tokens", "tokens"], ["members", "members"], ["settings", "settings"], ["knowledge/new", "knowledge"]] as const) {
    await viewer.goto(`${href}/${section}`);
    await expect(viewer.getByRole("heading", { level: 1, name: `You need the “${scope}” scope` })).toBeVisible();
  }
  await expect(viewer.getByRole("form", { name: "New knowledge entry" })).toHaveCount(0);
  await expect(viewer.getByLabel("Token name")).toHaveCount(0);
  await viewer.goto(`${href}/knowledge`);
  await expect(viewer.getByRole("heading", { level: 1, name: "Knowledge" })).toBeVisible();
  await expect(viewer.getByRole("link", { name: "New entry" })).toHaveCount(0);
  const write = await viewer.request.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "Nope", body: "" } });
  expect(write.status()).toBe(403);

  await viewerRow.getByRole("combobox", { name: `Role for ${viewerEmail}` }).selectOption("member");
  await viewerRow.getByRole("button", { name: `Save role for ${viewerEmail}` }).click();
  await expect(viewerRow.getByRole("combobox", { name: `Role for ${viewerEmail}` })).toHaveValue("member");
  await viewer.goto(`${href}/knowledge/new`);
  await expect(viewer.getByRole("form", { name: "New knowledge entry" })).toBeVisible();

  await viewerRow.getByRole("button", { name: `Remove ${viewerEmail}` }).click();
  await viewerRow.getByRole("button", { name: "Yes, remove" }).click();
  await expect(members.getByRole("row")).toHaveCount(2);
  const after = await viewer.goto(href);
  expect(after?.status()).toBe(404);
  await viewerContext.close();
});

test("settings: redaction level and custom patterns, with validation errors, apply to new writes", async ({ page }) => {
  const { workspaceId } = await adminWithWorkspace(page, "Redaction rules");
  await workspaceNav(page).getByRole("link", { name: "Settings" }).click();
  const form = page.getByRole("form", { name: "Redaction settings" });
  await expect(form.getByRole("radio", { name: "Standard" })).toBeChecked();

  await form.getByRole("radio", { name: "Strict" }).check();
  await form.getByRole("button", { name: "Add pattern" }).click();
  await form.getByLabel("Pattern 1 name").fill("Ticket Id");
  await form.getByLabel("Pattern 1 regular expression").fill("TICKET-(?=[0-9])");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(form.getByRole("alert")).toBeVisible();
  await expect(form.getByLabel("Pattern 1 name")).toHaveAccessibleDescription("Use 1 to 40 lowercase letters, digits or underscores.");
  await expect(form.getByLabel("Pattern 1 regular expression")).toHaveAccessibleDescription(/^Lookahead and lookbehind/);

  await form.getByLabel("Pattern 1 name").fill("ticket");
  await form.getByLabel("Pattern 1 regular expression").fill("TICKET-[0-9]{6}");
  await form.getByRole("button", { name: "Save settings" }).click();
  await expect(form.getByText(/^Saved\./)).toBeVisible();
  await expect(form.getByRole("alert")).toHaveCount(0);

  await page.reload();
  await expect(form.getByRole("radio", { name: "Strict" })).toBeChecked();
  await expect(form.getByLabel("Pattern 1 name")).toHaveValue("ticket");

  const written = await page.request.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: "Incident", body: "See TICKET-123456 for details." } });
  expect(written.status()).toBe(201);
  expect(await written.json()).toMatchObject({ entry: { body: "See [REDACTED:custom:ticket] for details." }, redaction: { count: 1, kinds: ["custom:ticket"] } });
});

test("knowledge list pages newest first with an Older link", async ({ page }) => {
  const { href, workspaceId } = await adminWithWorkspace(page, "Many notes");
  for (let n = 1; n <= 27; n += 1) {
    const created = await page.request.post(`/api/v1/workspaces/${workspaceId}/knowledge`, { data: { title: `Note ${n}`, body: `Body ${n}` } });
    expect(created.status()).toBe(201);
    // Distinct millisecond timestamps, so "newest first" has one right answer.
    await page.waitForTimeout(3);
  }
  await page.goto(`${href}/knowledge`);
  const entries = page.getByRole("list", { name: "Knowledge entries" }).getByRole("link");
  await expect(entries).toHaveCount(25);
  await expect(entries.first()).toHaveText("Note 27");
  await expect(entries.last()).toHaveText("Note 3");
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Older" }).click();
  await expect(entries).toHaveText(["Note 2", "Note 1"]);
  await expect(page.getByRole("link", { name: "Older" })).toHaveCount(0);
  await page.goto(`${href}/knowledge?cursor=not-a-cursor`);
  await expect(page.getByText("That page link is no longer valid.")).toBeVisible();
  await page.goto(href);
  await expect(page.getByRole("list", { name: "Workspace contents" })).toContainText("Knowledge entries 27");
  await expect(page.getByRole("list", { name: "Recent knowledge" }).getByRole("link")).toHaveCount(5);
});

test("sessions and artifacts: state shown as JSON text, artifacts downloaded as attachments", async ({ page }) => {
  const { workspaceId } = await adminWithWorkspace(page, "Agent work");
  const base = `/api/v1/workspaces/${workspaceId}`;
  const put = await page.request.put(`${base}/sessions/planner-1`, { data: { rev: 0, channel: "ops", state: { step: 2, note: "<b>not bold</b>" } } });
  expect(put.status()).toBe(200);
  const html = "<html><script>alert(1)</script></html>";
  const stored = await page.request.put(`${base}/artifacts/report.html`, { data: Buffer.from(html), headers: { "content-type": "text/html" } });
  expect(stored.status()).toBe(200);

  await workspaceNav(page).getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("table", { name: "Agent sessions" }).getByRole("link", { name: "planner-1" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "planner-1" })).toBeVisible();
  await expect(page.locator("pre.json")).toHaveText(JSON.stringify({ step: 2, note: "<b>not bold</b>" }, null, 2));
  await expect(page.locator("article b")).toHaveCount(0);

  await workspaceNav(page).getByRole("link", { name: "Artifacts" }).click();
  const link = page.getByRole("table", { name: "Artifacts" }).getByRole("link", { name: "report.html" });
  await expect(link).toHaveAttribute("download", "report.html");
  const download = page.waitForEvent("download");
  await link.click();
  expect((await download).suggestedFilename()).toBe("report.html");
  const fetched = await page.request.get((await link.getAttribute("href")) ?? "");
  expect(fetched.headers()["content-disposition"]).toBe('attachment; filename="report.html"');
  expect(await fetched.text()).toBe(html);
});
