import { expect, failOnPageErrors, test } from "./fixtures";

// The public trust pages open without signing in, render what this server's configuration
// says, and load nothing the CSP refuses (every test here fails on a CSP violation: fixtures.ts).
failOnPageErrors();

test("/security, /privacy and /cookies open without signing in, with no CSP violation", async ({ page }) => {
  const security = await page.goto("/security");
  expect(security?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Security of this instance" })).toBeVisible();
  // The e2e server has no backup recipients: the page must say so rather than claim backups.
  await expect(page.getByText("Backups are not configured on this instance.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "What Enclave does not do" })).toBeVisible();

  await page.getByRole("link", { name: "Privacy" }).first().click();
  await expect(page.getByRole("heading", { name: "Privacy", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Download my data" })).toHaveAttribute("href", "/account/data");

  await page.getByRole("link", { name: "Cookies" }).first().click();
  await expect(page.getByRole("heading", { name: "Cookies", exact: true })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "enclave_session" })).toBeVisible();
  // Nothing optional can load on this server: no consent cookie row, no banner.
  await expect(page.getByRole("rowheader", { name: "enclave_consent" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Optional services" })).toHaveCount(0);
  expect((await page.context().cookies()).map((cookie) => cookie.name)).toEqual([]);
});

test("/.well-known/security.txt is a 404 while no security contact is configured", async ({ request }) => {
  const response = await request.get("/.well-known/security.txt");
  expect(response.status()).toBe(404);
  expect(await response.json()).toMatchObject({ error: "not_found" });
});
