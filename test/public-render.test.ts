import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import PrivacyPage from "@/app/(public)/privacy/page";
import SecurityPage from "@/app/(public)/security/page";
import { useTempStore } from "./store";

/** The pages themselves, rendered on a real store: what a visitor reads follows the config. */
describe("public pages rendered", () => {
  useTempStore({ ENCLAVE_AUDIT_RETENTION_DAYS: "420" });

  it("/security states this instance's facts, says what is off, and claims no backups or contact it lacks", async () => {
    const html = renderToStaticMarkup(await SecurityPage());
    expect(html).toContain("Backups are not configured on this instance.");
    expect(html).toContain("kept 420 days");
    expect(html).toContain("What Enclave does not do");
    expect(html).toContain("has not published a security contact");
    expect(html).not.toContain("/.well-known/security.txt");
    expect(html).not.toMatch(/Backups run|restore drill, on/);
  });

  it("/privacy gives the configured periods and links to export and closure", () => {
    const html = renderToStaticMarkup(PrivacyPage());
    expect(html).toContain("420 days, then swept.");
    expect(html).toContain('href="/account/data"');
    expect(html).toContain('href="/account/data/close"');
    expect(html).toContain("shares nothing with anyone");
  });
});
