import "server-only";
import { auditQuerySchema, type AuditQuery } from "@/lib/audit/trail";

/** The filter fields a trail page's form shows, as typed (for the form) and as the URL carries them. */
export const AUDIT_FILTERS = ["actor", "action", "from", "to"] as const;
const PARAMS = [...AUDIT_FILTERS, "after", "before"] as const;

export type AuditSearch = {
  /** The filters and cursor as given, for the form and the page links. */
  given: Partial<Record<(typeof PARAMS)[number], string>>;
  /** The parsed query, or null with the reasons when the URL does not make one. */
  query: AuditQuery | null;
  problems: Record<string, string[]>;
};

/**
 * A trail page's search params, parsed by the REST query's own schema so a page and the API
 * accept and refuse the same things. Empty fields (a submitted form's blanks) are left out.
 */
export function parseAuditSearch(params: Record<string, string | string[] | undefined>, limit: number): AuditSearch {
  const given: AuditSearch["given"] = {};
  for (const name of PARAMS) {
    const value = params[name];
    if (typeof value === "string" && value.trim() !== "") given[name] = value.trim();
  }
  const parsed = auditQuerySchema.safeParse({ ...given, limit });
  if (parsed.success) return { given, query: parsed.data, problems: {} };
  const problems: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) (problems[String(issue.path[0] ?? "query")] ??= []).push(issue.message);
  return { given, query: null, problems };
}

/** `base` with the given filters and one cursor, for the Older/Newer links. */
export function auditPageHref(base: string, given: AuditSearch["given"], cursor: { before: number } | { after: number }): string {
  const search = new URLSearchParams();
  for (const name of AUDIT_FILTERS) if (given[name] !== undefined) search.set(name, given[name]);
  for (const [name, value] of Object.entries(cursor)) search.set(name, String(value));
  return `${base}?${search.toString()}`;
}
