import { spawnSync } from "node:child_process";
import { test as base, expect, type APIRequestContext, type Page, type PlaywrightWorkerArgs } from "@playwright/test";

/** Collects the CSP violations Chromium reports on `page`'s console into `violations`. */
export function watchCsp(page: Page, violations: string[]): void {
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
}

/**
 * Every page in every test is watched for CSP violations: Chromium reports each one on the
 * console ("Refused to … Content Security Policy …"), and any such line fails the test. Pages
 * a test opens in other contexts join with `watchCsp(otherPage, cspViolations)`.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ page }, use) => {
      const violations: string[] = [];
      watchCsp(page, violations);
      await use(violations);
      expect(violations, "the browser reported CSP violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/**
 * Uncaught exceptions, React errors (a hydration mismatch is one) and console errors fail each
 * test of the spec that calls this. Refused calls the tests provoke (403, 409) are logged by
 * Chromium as "Failed to load resource"; those are expected.
 */
export function failOnPageErrors(): void {
  const pageErrors: string[] = [];
  test.beforeEach(({ page }) => {
    pageErrors.length = 0;
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
  });
  test.afterEach(() => {
    expect(pageErrors, "errors in the page").toEqual([]);
  });
}

let counter = 0;
export function uniqueEmail(label: string): string {
  counter += 1;
  return `${label}-${Date.now()}-${counter}@example.com`;
}

export const PASSWORD = "a long enough passphrase";

export async function signUp(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
}

/** Signs out and waits for the sign-in page it lands on (navigating again before then interrupts it). */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * A new account made with `enclave user create` against the running server's data dir (the CLI
 * may run beside the server), then signed in through the page. Sign-up allows 20 per IP per
 * hour and the specs about sign-up spend most of it; specs about anything else start here.
 */
export async function signedInAccount(page: Page, label: string): Promise<string> {
  const email = uniqueEmail(label);
  const created = spawnSync(process.execPath, ["bin/enclave.mjs", "user", "create", "--email", email, "--password-stdin"], {
    env: { ...process.env, ENCLAVE_DATA_DIR: process.env.E2E_DATA_DIR },
    input: `${PASSWORD}\n`,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(created.status, created.stderr).toBe(0);
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: "Workspaces", level: 1 })).toBeVisible();
  return email;
}

export async function createWorkspace(page: Page, name: string): Promise<string> {
  await page.getByLabel("Workspace name").fill(name);
  await page.getByRole("button", { name: "Create workspace" }).click();
  const link = page.getByRole("list", { name: "Your workspaces" }).getByRole("link", { name });
  await expect(link).toBeVisible();
  const href = await link.getAttribute("href");
  if (!href) throw new Error("workspace link has no href");
  return href;
}

/** `/w/ws_…` → `ws_…` */
export function workspaceIdFrom(href: string): string {
  const id = /^\/w\/(ws_[0-9a-f]+)$/.exec(href)?.[1];
  if (!id) throw new Error(`not a workspace link: ${href}`);
  return id;
}

/**
 * An API client that knows nothing of the browser: no cookies, only the bearer token, as a
 * script or CI job would call the API.
 */
export function bearerClient(playwright: PlaywrightWorkerArgs["playwright"], baseURL: string | undefined, token: string): Promise<APIRequestContext> {
  return playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
}
