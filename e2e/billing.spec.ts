import { startFakeRazorpay, type FakeRazorpay } from "../test/razorpay";
import { BILLING_KEYS, BILLING_URL, FAKE_RAZORPAY_PORT, FAKE_RAZORPAY_URL } from "./billing-server";
import { createWorkspace, expect, failOnPageErrors, signedInAccount, signUp, test, uniqueEmail, workspaceIdFrom } from "./fixtures";

// Billing as an owner meets it: on the billing server (Razorpay keys, ops/plans.example.json,
// the Razorpay API and Checkout faked at their HTTP boundary), and its absence on the default one.
failOnPageErrors();

test.describe("billing on", () => {
  test.use({ baseURL: BILLING_URL });
  let fake: FakeRazorpay;
  test.beforeAll(async () => {
    fake = await startFakeRazorpay(BILLING_KEYS, FAKE_RAZORPAY_PORT);
  });
  test.afterAll(async () => {
    await fake.close();
  });

  test("an owner sees usage beside each limit, subscribes to Team through Checkout, and can cancel at period end and resume; only the Billing page's CSP names Checkout", async ({ page }) => {
    await signUp(page, uniqueEmail("billing-owner"));
    const href = await createWorkspace(page, "Paid team");
    const workspaceId = workspaceIdFrom(href);

    const overview = await page.goto(href);
    expect(overview?.headers()["content-security-policy"]).not.toContain(FAKE_RAZORPAY_URL);
    expect(overview?.headers()["content-security-policy"]).not.toContain("razorpay");
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Billing" }).click();
    await expect(page.getByRole("heading", { name: "Billing", level: 1 })).toBeVisible();
    await expect(page.getByText("Current plan:")).toContainText("Free");
    const limits = page.getByRole("table", { name: "Limits and usage" });
    await expect(limits.getByRole("row", { name: /Members/ })).toContainText("1 / 3");
    await expect(limits.getByRole("row", { name: /Team tokens/ })).toContainText("0 / 2");

    const billingPage = await page.reload();
    const csp = billingPage?.headers()["content-security-policy"] ?? "";
    expect(csp).toMatch(new RegExp(`script-src [^;]*${FAKE_RAZORPAY_URL}`));
    expect(csp).toMatch(new RegExp(`frame-src [^;]*${FAKE_RAZORPAY_URL}`));
    for (const other of ["settings", "tokens", "members"]) {
      const response = await page.goto(`${href}/${other}`);
      expect(response?.headers()["content-security-policy"], other).not.toContain("razorpay");
      expect(response?.headers()["content-security-policy"], other).not.toContain(FAKE_RAZORPAY_URL);
    }

    await page.goto(`${href}/billing`);
    const subscribe = page.getByRole("form", { name: "Subscribe to Team" });
    await subscribe.getByRole("button", { name: "Subscribe to Team" }).click();
    await expect(page.getByText("Current plan:")).toContainText("Team");
    await expect(limits.getByRole("row", { name: /Members/ })).toContainText("1 / 25");
    const created = fake.requests.find((entry) => entry.method === "POST" && entry.path === "/v1/subscriptions");
    expect(created?.body).toMatchObject({ plan_id: "plan_TeamMonthly001", notes: { workspace_id: workspaceId } });
    expect(await page.evaluate(() => (window as unknown as { __razorpayOpened?: { key: string } }).__razorpayOpened?.key)).toBe(BILLING_KEYS.keyId);
    // Loaded with this response's nonce (the property: browsers hide the attribute's value).
    expect(await page.evaluate(() => document.querySelector<HTMLScriptElement>('script[src$="/checkout.js"]')?.nonce)).toMatch(/^[A-Za-z0-9+/=]{16,}$/);

    const cancel = page.getByRole("form", { name: "Cancel subscription" });
    await cancel.getByRole("button", { name: "Cancel at period end" }).click();
    await cancel.getByRole("button", { name: "Yes, cancel at period end" }).click();
    const resume = page.getByRole("form", { name: "Resume subscription" });
    await expect(resume.getByRole("button", { name: "Resume subscription" })).toBeVisible();
    await expect(page.getByText(/ends with its current period/)).toBeVisible();
    await resume.getByRole("button", { name: "Resume subscription" }).click();
    await expect(page.getByRole("form", { name: "Cancel subscription" }).getByRole("button", { name: "Cancel at period end" })).toBeVisible();
    await expect(page.getByRole("form", { name: "Cancel subscription" }).getByRole("alert")).toHaveCount(0);
  });

  test("an admin of the workspace sees no Billing link and is told the Billing page needs the owner's scope", async ({ page, browser }) => {
    await signUp(page, uniqueEmail("billing-owner2"));
    const href = await createWorkspace(page, "Owned elsewhere");
    const adminContext = await browser.newContext({ baseURL: BILLING_URL });
    const admin = await adminContext.newPage();
    const adminEmail = uniqueEmail("billing-admin");
    await signUp(admin, adminEmail);
    const added = await page.request.post(`/api/v1/workspaces/${workspaceIdFrom(href)}/members`, { data: { email: adminEmail, role: "admin" } });
    expect(added.status()).toBe(201);
    const { link } = (await added.json()) as { link: string };
    expect((await admin.request.post("/api/invitations/accept", { data: { token: new URL(link).searchParams.get("token") } })).status()).toBe(200);

    await admin.goto(href);
    const nav = admin.getByRole("navigation", { name: "Workspace" });
    await expect(nav.getByRole("link", { name: "Audit" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Billing" })).toHaveCount(0);
    await admin.goto(`${href}/billing`);
    await expect(admin.getByRole("heading", { name: "You need the “billing” scope" })).toBeVisible();
    await expect(admin.getByRole("button", { name: /Subscribe/ })).toHaveCount(0);
    const refused = await admin.request.post(`/api/workspaces/${workspaceIdFrom(href)}/billing/subscribe`, { data: { planId: "team" }, headers: { origin: BILLING_URL } });
    expect(refused.status()).toBe(403);
    expect(await refused.json()).toMatchObject({ error: "insufficient_scope" });
    await adminContext.close();
  });
});

test("billing off (the default server): no Billing link, /w/<id>/billing is a 404, and no page's CSP names Razorpay", async ({ page }) => {
  await signedInAccount(page, "no-billing");
  const href = await createWorkspace(page, "Unbilled");
  const overview = await page.goto(href);
  await expect(page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Settings" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Billing" })).toHaveCount(0);
  expect(overview?.headers()["content-security-policy"]).not.toContain("razorpay");
  const billing = await page.goto(`${href}/billing`);
  expect(billing?.status()).toBe(404);
  expect(billing?.headers()["content-security-policy"] ?? "").not.toContain("razorpay");
  const api = await page.request.get(`/api/workspaces/${workspaceIdFrom(href)}/billing`);
  expect(api.status()).toBe(404);
});
