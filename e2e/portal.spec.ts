import { generate } from "otplib";
import { createWorkspace, expect, PASSWORD, signIn, signOut, signUp, test, uniqueEmail } from "./fixtures";

test("sign up, create a workspace, sign out, and the old cookie is refused", async ({ page, context }) => {
  const email = uniqueEmail("flow");
  await signUp(page, email);
  const href = await createWorkspace(page, "Field notes");
  await page.goto(href);
  await expect(page.getByRole("heading", { name: "Field notes" })).toBeVisible();
  await expect(page.getByText("Nothing here yet")).toBeVisible();

  const [session] = (await context.cookies()).filter((cookie) => cookie.name.endsWith("enclave_session"));
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");

  await signOut(page);

  // Put the signed-out cookie back: the server deleted the session, so it opens nothing.
  await context.addCookies([session!]);
  const replay = await page.request.get("/api/workspaces");
  expect(replay.status()).toBe(401);
  await page.goto(href);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await signIn(page, email);
  await expect(page.getByRole("list", { name: "Your workspaces" }).getByRole("link", { name: "Field notes" })).toBeVisible();
});

test("another user opening the first user's workspace URL gets 404", async ({ browser, page }) => {
  await signUp(page, uniqueEmail("owner"));
  const href = await createWorkspace(page, "Private plans");

  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await signUp(strangerPage, uniqueEmail("stranger"));
  const response = await strangerPage.goto(href);
  expect(response?.status()).toBe(404);
  await expect(strangerPage.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(strangerPage.getByText("Private plans")).toHaveCount(0);
  await stranger.close();
});

test("a wrong password shows one clear message", async ({ page }) => {
  const email = uniqueEmail("wrong");
  await signUp(page, email);
  await signOut(page);
  await signIn(page, email, "not the right password");
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("Email or password is incorrect.");
});

test("turn on TOTP, then sign in with a code from the authenticator", async ({ page }) => {
  const email = uniqueEmail("mfa");
  await signUp(page, email);
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const secret = (await page.getByTestId("totp-secret").textContent())?.trim() ?? "";
  expect(secret).toMatch(/^[A-Z2-7]+=*$/);
  await page.getByLabel("Authentication code").fill(await generate({ secret }));
  await page.getByRole("button", { name: "Turn on two-factor authentication" }).click();
  const codes = page.getByRole("list", { name: "Backup codes" }).getByRole("listitem");
  await expect(codes).toHaveCount(10);
  await page.getByRole("button", { name: "I have saved my backup codes" }).click();
  await expect(page.getByText("Two-factor authentication is on.")).toBeVisible();

  await signOut(page);
  await signIn(page, email, PASSWORD);
  const codeField = page.getByLabel("Authentication code");
  await expect(codeField).toBeVisible();
  // The code used to turn MFA on may not be replayed, so use the next 30-second step's code.
  await codeField.fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
});

test("responses carry the security headers and a per-request nonce", async ({ page }) => {
  const first = await page.goto("/sign-in");
  const second = await page.request.get("/sign-in");
  const headers = first!.headers();
  const csp = headers["content-security-policy"] ?? "";
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  for (const directive of ["object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"]) {
    expect(csp).toContain(directive);
  }
  expect(csp).toMatch(/style-src 'self' 'nonce-/);
  const nonce = (value: string) => /'nonce-([^']+)'/.exec(value)?.[1];
  expect(nonce(csp)).not.toBe(nonce(second.headers()["content-security-policy"] ?? ""));
  expect(headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains; preload");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  const permissions = headers["permissions-policy"] ?? "";
  for (const feature of ["camera", "microphone", "geolocation", "payment", "usb", "interest-cohort"]) {
    expect(permissions).toContain(`${feature}=()`);
  }
  expect(headers["x-powered-by"]).toBeUndefined();
  expect(headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  // The page's own scripts carry the nonce; an injected one would not run.
  const scriptNonces = await page.locator("script[src]").evaluateAll((scripts) => scripts.map((s) => (s as HTMLScriptElement).nonce));
  expect(scriptNonces.length).toBeGreaterThan(0);
  expect(scriptNonces.every((value) => value === nonce(csp))).toBe(true);
});

test("API errors are JSON with a request id, never a stack trace", async ({ request }) => {
  const unknown = await request.get("/api/nope");
  expect(unknown.status()).toBe(404);
  expect(await unknown.json()).toMatchObject({ error: "not_found", requestId: unknown.headers()["x-request-id"] });
  const malformed = await request.post("/api/auth/sign-in", { data: Buffer.from("{oops"), headers: { "content-type": "application/json" } });
  expect(malformed.status()).toBe(400);
  expect(await malformed.json()).toMatchObject({ error: "malformed_json" });
  const oversized = await request.post("/api/auth/sign-up", {
    data: Buffer.from(JSON.stringify({ email: "big@example.com", password: "x".repeat(2 * 1024 * 1024) })),
    headers: { "content-type": "application/json" },
  });
  expect(oversized.status()).toBe(413);
  expect(await oversized.json()).toMatchObject({ error: "payload_too_large" });
  const health = await request.get("/api/health");
  expect(await health.json()).toEqual({ status: "ok" });
});
