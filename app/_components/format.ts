import type { RedactionReport } from "@/lib/api/types";

/**
 * Formatting shared by server and client components. Times are UTC ISO-like text so the
 * server's render and the browser's hydration agree whatever either's time zone.
 */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "never";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

/** "2 secrets were redacted (github_token, jwt)", or null when nothing was. */
export function redactionMessage(report: RedactionReport | undefined): string | null {
  if (!report || report.count === 0) return null;
  const what = report.count === 1 ? "1 secret was" : `${report.count} secrets were`;
  return `${what} redacted (${report.kinds.join(", ")}).`;
}

/** Paths of the REST API the portal writes through, with every segment escaped. */
export function apiPath(workspaceId: string, ...segments: string[]): string {
  return ["/api/v1/workspaces", workspaceId, ...segments].map((part, index) => (index === 0 ? part : encodeURIComponent(part))).join("/");
}

/** Portal paths under a workspace. */
export function workspacePath(workspaceId: string, ...segments: string[]): string {
  return [`/w/${encodeURIComponent(workspaceId)}`, ...segments.map(encodeURIComponent)].join("/");
}
