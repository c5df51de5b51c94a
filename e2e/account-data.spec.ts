import { createHash } from "node:crypto";
import fs from "node:fs";
import { readZip } from "../test/zip";
import { createWorkspace, expect, PASSWORD, signedInAccount, test, workspaceIdFrom } from "./fixtures";

test("Account › Data: confirm the password, download the ZIP, and it is this person's, with a manifest that holds", async ({ page }) => {
  const email = await signedInAccount(page, "data");
  const workspaceId = workspaceIdFrom(await createWorkspace(page, "Exported notes"));

  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("link", { name: "Download your data, or close your account" }).click();
  await expect(page.getByRole("heading", { name: "Your data" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Close my account" })).toHaveAttribute("href", "/account/data/close");

  // Before the password is confirmed there is no button, and the endpoint refuses too.
  await expect(page.getByRole("button", { name: "Download my data" })).toHaveCount(0);
  expect((await page.request.get("/api/account/export")).status()).toBe(401);

  const reauth = page.getByRole("form", { name: "Confirm it's you" });
  await reauth.getByLabel("Password").fill("not the right password");
  await reauth.getByRole("button", { name: "Confirm it's you" }).click();
  await expect(reauth.getByRole("alert")).toHaveText("That password is not correct.");
  await reauth.getByLabel("Password").fill(PASSWORD);
  await reauth.getByRole("button", { name: "Confirm it's you" }).click();

  const button = page.getByRole("button", { name: "Download my data" });
  await expect(button).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  expect(download.suggestedFilename()).toMatch(/^enclave-export-\d{4}-\d{2}-\d{2}\.zip$/);
  const files = await readZip(fs.readFileSync(await download.path()));

  const account = JSON.parse(files.get("account.json")!.toString()) as { user: { email: string }; memberships: { workspaceId: string; role: string }[] };
  expect(account.user.email).toBe(email);
  expect(account.memberships).toEqual([expect.objectContaining({ workspaceId, role: "owner" })]);
  expect(JSON.parse(files.get(`workspaces/${workspaceId}/workspace.json`)!.toString())).toMatchObject({ id: workspaceId, name: "Exported notes" });
  const manifest = JSON.parse(files.get("manifest.json")!.toString()) as { files: { path: string; size: number; sha256: string }[] };
  expect(manifest.files.map((file) => file.path).sort()).toEqual([...files.keys()].filter((name) => name !== "manifest.json").sort());
  for (const file of manifest.files) {
    expect(createHash("sha256").update(files.get(file.path)!).digest("hex"), file.path).toBe(file.sha256);
    expect(files.get(file.path)!.length, file.path).toBe(file.size);
  }

  // The page still shows the button; the download did not navigate away.
  await expect(page.getByRole("heading", { name: "Your data" })).toBeVisible();
});
