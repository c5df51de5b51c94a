import { expect, PASSWORD, signedInAccount, signIn, signOut, test } from "./fixtures";

const NEW_PASSWORD = "another long passphrase";

test("Account: the sessions list shows the other browser, changing the password ends it, and only the new password signs in", async ({ page, browser }) => {
  const email = await signedInAccount(page, "basics");
  // A second browser with its own cookie jar: the person's other device.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await expect(otherPage.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();

  await page.getByRole("link", { name: "Account" }).click();
  const sessions = page.getByRole("table", { name: "Your sessions" });
  await expect(sessions.getByRole("row")).toHaveCount(3); // the header and two sessions
  await expect(sessions.getByText("(this session)")).toHaveCount(1);

  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill("not the right password");
  await form.getByLabel(/^New password \(/).fill(NEW_PASSWORD);
  await form.getByLabel("New password again").fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("alert")).toBeVisible();

  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByLabel(/^New password \(/).fill(NEW_PASSWORD);
  await form.getByLabel("New password again").fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByRole("status")).toHaveText("Password changed. 1 other session was signed out.");

  // The other browser is signed out; this one is not.
  await otherPage.goto("/workspaces");
  await expect(otherPage.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.goto("/workspaces");
  await expect(page.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();

  await signOut(page);
  await signIn(page, email);
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("Email or password is incorrect.");
  await expect(page.getByRole("heading", { name: "Workspaces", level: 1 })).toHaveCount(0);
  await signIn(page, email, NEW_PASSWORD);
  await expect(page.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();
  await other.close();
});

test("Account: ending another session from the list signs that browser out at once", async ({ page, browser }) => {
  const email = await signedInAccount(page, "end-session");
  const other = await browser.newContext({ userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0" });
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await expect(otherPage.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();

  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("button", { name: /^End session on Firefox/ }).click();
  await page.getByRole("button", { name: "Yes, end it" }).click();
  await expect(page.getByText("No other session is signed in.")).toBeVisible();

  await otherPage.goto("/workspaces");
  await expect(otherPage.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await other.close();
});

test("Forgot password without mail says who can reset it, and the sign-in page links there", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByRole("link", { name: /Forgot your password/ }).click();
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
  await expect(page.getByText("enclave user reset-password --email you@example.com")).toBeVisible();
});
