import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { judgeAudit } from "@/scripts/audit/verdict";

/**
 * The dependency gate's reading of `npm audit --json`, on answers written by hand in npm 7+'s
 * documented report format (test/fixtures/npm-audit/), and on the two failures met for real:
 * this machine's registry answers the bulk advisory endpoint with 405, and an offline one
 * cannot resolve the registry. Neither may pass as "no vulnerabilities".
 */
const fixture = (name: string) => fs.readFileSync(`test/fixtures/npm-audit/${name}.json`, "utf8");

describe("npm run audit:deps verdicts", () => {
  it("passes a clean report (exit 0) and says how many packages were checked", () => {
    const verdict = judgeAudit(fixture("clean"), "");
    expect(verdict.exitCode).toBe(0);
    expect(verdict.summary).toBe("dependency audit of 642 packages: 0 info, 0 low, 0 moderate, 0 high, 0 critical; nothing high or critical");
  });

  it("passes moderate and low findings: the gate is at high", () => {
    const verdict = judgeAudit(fixture("moderate-only"), "");
    expect(verdict.outcome).toBe("pass");
    expect(verdict.summary).toContain("2 moderate");
  });

  it("fails on high or critical (exit 1), listing each package, its advisories and whether a fix exists", () => {
    const verdict = judgeAudit(fixture("high-and-critical"), "");
    expect(verdict.exitCode).toBe(1);
    expect(verdict.summary).toContain("3 high or critical");
    expect(verdict.outcome === "fail" && verdict.findings).toEqual([
      "critical minimist: Prototype Pollution in minimist https://github.com/advisories/GHSA-xvch-5gv4-984h (fix available)",
      "critical mkdirp: through minimist (fix available)",
      "high semver: semver vulnerable to Regular Expression Denial of Service https://github.com/advisories/GHSA-c2qf-rxjj-qqgw (no fix yet)",
    ]);
  });

  it("reports a registry without the audit endpoint (405) as unreachable, exit 3, never a pass", () => {
    const verdict = judgeAudit(fixture("registry-405"), "npm warn audit 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk\nnpm error audit endpoint returned an error\n");
    expect(verdict).toMatchObject({ outcome: "unreachable", exitCode: 3 });
    expect(verdict.summary).toMatch(/NOT done: the advisory service could not be reached \(HTTP 405: 405 Method Not Allowed/);
  });

  it("reports no network (ENOTFOUND) as unreachable", () => {
    expect(judgeAudit(fixture("offline"), "")).toMatchObject({ outcome: "unreachable", exitCode: 3, summary: expect.stringContaining("ENOTFOUND") as unknown });
  });

  it("reports no JSON at all, or a report without counts, as unreachable, quoting npm's error line", () => {
    const empty = judgeAudit("", "npm error code ECONNREFUSED\nnpm error errno ECONNREFUSED\n");
    expect(empty).toMatchObject({ outcome: "unreachable", exitCode: 3 });
    expect(empty.summary).toContain("code ECONNREFUSED");
    expect(judgeAudit("<html>proxy error</html>", "").outcome).toBe("unreachable");
    expect(judgeAudit(JSON.stringify({ auditReportVersion: 2 }), "").outcome).toBe("unreachable");
    expect(judgeAudit("[]", "").outcome).toBe("unreachable");
  });
});
