import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createWorkspace, expect, signedInAccount, test, workspaceIdFrom } from "./fixtures";

test("an owner downloads a signed evidence bundle that the standalone verifier accepts; a bad period is shown beside its field", async ({ page }) => {
  await signedInAccount(page, "owner");
  const workspaceId = workspaceIdFrom(await createWorkspace(page, "Evidence"));
  await page.goto(`/w/${workspaceId}/audit/evidence`);
  await expect(page.getByRole("heading", { level: 1, name: "Audit evidence" })).toBeVisible();

  const form = page.getByRole("form", { name: "Evidence bundle" });
  const today = new Date().toISOString().slice(0, 10);
  await form.getByLabel("From (UTC date)").fill(today);
  await form.getByLabel("To (UTC date, included)").fill("2020-01-01");
  await form.getByRole("button", { name: "Download evidence bundle" }).click();
  await expect(form.getByText("The period ends before it starts.")).toBeVisible();
  await expect(form.getByLabel("To (UTC date, included)")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("To (UTC date, included)").fill(today);
  const download = page.waitForEvent("download");
  await form.getByRole("button", { name: "Download evidence bundle" }).click();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "enclave-e2e-evidence-")), "bundle.zip");
  const bundle = await download;
  expect(bundle.suggestedFilename()).toBe(`evidence-${workspaceId}-${today}-${today}.zip`);
  await bundle.saveAs(file);
  // The page stays where it was: the bundle came as an attachment.
  await expect(page.getByRole("heading", { level: 1, name: "Audit evidence" })).toBeVisible();

  const keyFile = `${file}.pem`;
  fs.writeFileSync(keyFile, `${await page.getByLabel("Audit public key").textContent()}`);
  const verdict = execFileSync(process.execPath, ["bin/enclave-verify.mjs", file, "--public-key", keyFile], { encoding: "utf8" });
  expect(verdict).toContain("OK: the evidence bundle is intact");
  expect(verdict).toContain(`chain      workspace:${workspaceId}`);
});
