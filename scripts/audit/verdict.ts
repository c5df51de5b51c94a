/**
 * What `npm audit --json` answered, judged for the dependency gate (scripts/audit-deps.ts).
 * Three outcomes, three exit codes, so CI can tell "safe" from "could not check":
 *   0 pass         the advisory service answered and nothing is high or critical;
 *   1 fail         it answered and something is high or critical (listed);
 *   3 unreachable  no answer (offline, DNS, a registry or proxy without the audit endpoint, as
 *                  here: 405 on POST /-/npm/v1/security/advisories/bulk): never read as a pass.
 * The report format is npm 7+'s (auditReportVersion 2): `metadata.vulnerabilities` counts per
 * severity, `vulnerabilities.<package>` with `severity` and `via` (advisories or package names).
 */
export type AuditVerdict =
  | { outcome: "pass"; exitCode: 0; summary: string }
  | { outcome: "fail"; exitCode: 1; summary: string; findings: string[] }
  | { outcome: "unreachable"; exitCode: 3; summary: string };

type Advisory = { title?: string; url?: string; severity?: string };
type Vulnerability = { name?: string; severity?: string; via?: (Advisory | string)[]; fixAvailable?: unknown };
type Report = {
  auditReportVersion?: number;
  vulnerabilities?: Record<string, Vulnerability>;
  metadata?: { vulnerabilities?: Partial<Record<Severity, number>>; dependencies?: { total?: number } };
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
  statusCode?: number;
};

const SEVERITIES = ["info", "low", "moderate", "high", "critical"] as const;
type Severity = (typeof SEVERITIES)[number];
const BLOCKING: Severity[] = ["high", "critical"];

function parseReport(stdout: string): Report | undefined {
  try {
    const value: unknown = JSON.parse(stdout);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function unreachable(why: string): AuditVerdict {
  return {
    outcome: "unreachable",
    exitCode: 3,
    summary: `dependency audit NOT done: the advisory service could not be reached (${why}). This is not a pass: run npm run audit:deps where the registry's audit endpoint answers.`,
  };
}

/** The line npm prints on stderr for a failed request, if any (`npm error code ENOTFOUND`, `npm warn audit 405 …`). */
function stderrReason(stderr: string): string | undefined {
  const line = stderr.split("\n").find((text) => /\b(E[A-Z]{3,}|\d{3} [A-Z][a-z]+)/.test(text) && /npm (error|warn|ERR!)/.test(text));
  return line?.replace(/^npm (error|warn|ERR!)\s*/, "").trim();
}

export function judgeAudit(stdout: string, stderr: string): AuditVerdict {
  const report = parseReport(stdout);
  if (!report) return unreachable(stderrReason(stderr) ?? "npm audit printed no report");
  if (report.error || report.message || report.statusCode) {
    const reason = report.error?.code ?? (report.statusCode ? `HTTP ${report.statusCode}` : undefined);
    return unreachable([reason, report.error?.summary || report.message].filter(Boolean).join(": ") || "npm audit reported an error");
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts || !report.vulnerabilities) return unreachable("the answer had no vulnerability counts");
  const tally = SEVERITIES.map((severity) => `${counts[severity] ?? 0} ${severity}`).join(", ");
  const scanned = report.metadata?.dependencies?.total;
  const blocking = BLOCKING.reduce((sum, severity) => sum + (counts[severity] ?? 0), 0);
  const summary = `dependency audit${scanned === undefined ? "" : ` of ${scanned} packages`}: ${tally}`;
  if (blocking === 0) return { outcome: "pass", exitCode: 0, summary: `${summary}; nothing high or critical` };
  const findings = Object.entries(report.vulnerabilities)
    .filter(([, vulnerability]) => BLOCKING.includes(vulnerability.severity as Severity))
    .map(([name, vulnerability]) => {
      const advisories = (vulnerability.via ?? []).map((via) => (typeof via === "string" ? `through ${via}` : `${via.title ?? "advisory"} ${via.url ?? ""}`.trim()));
      const fix = vulnerability.fixAvailable ? "fix available" : "no fix yet";
      return `${vulnerability.severity ?? "?"} ${name}: ${advisories.join("; ")} (${fix})`;
    });
  return { outcome: "fail", exitCode: 1, summary: `${summary}; ${blocking} high or critical`, findings };
}
