import Link from "next/link";
import type { AuditPage, AuditTrailRow } from "@/lib/audit/trail";
import { formatTime, isoTime } from "./format";

/** Who acted, as people read it: a name when control.db still has one, and the label it is filed under. */
function Actor({ row }: { row: AuditTrailRow }) {
  const label = row.actorId ? `${row.actorType}:${row.actorId}` : row.actorType;
  return (
    <>
      {row.actorName ?? label}
      {row.actorName ? (
        <>
          <br />
          <small className="muted">{label}</small>
        </>
      ) : null}
    </>
  );
}

/**
 * Audit rows, newest first, each with its details behind a disclosure. Everything shown is text
 * (client names and arguments are untrusted), and details were redacted when the row was written.
 */
export function AuditTable({ label, rows }: { label: string; rows: AuditTrailRow[] }) {
  return (
    <table aria-label={label} className="audit-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">When</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.seq}>
            <td>{row.seq}</td>
            <td>
              <time dateTime={isoTime(row.at)}>{formatTime(row.at)}</time>
            </td>
            <td>
              <Actor row={row} />
            </td>
            <th scope="row">
              <code>{row.action}</code>
            </th>
            <td className="audit-target">{row.target ?? <span className="muted">—</span>}</td>
            <td>
              <details>
                <summary>Details</summary>
                <dl className="meta">
                  <dt>Request</dt>
                  <dd>{row.requestId ?? "—"}</dd>
                  <dt>IP</dt>
                  <dd>{row.ip ?? "—"}</dd>
                  <dt>Browser or client</dt>
                  <dd>{row.userAgent ?? "—"}</dd>
                </dl>
                <pre>{JSON.stringify(row.details, null, 2)}</pre>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Older/Newer links for a page of rows (`href` builds a link with one cursor). */
export function AuditPager({ page, href }: { page: Pick<AuditPage, "nextCursor" | "prevCursor">; href: (cursor: { before: number } | { after: number }) => string }) {
  return (
    <nav aria-label="Pages" className="pager">
      {page.prevCursor !== null ? <Link href={href({ after: page.prevCursor })}>← Newer</Link> : null}
      {page.nextCursor !== null ? <Link href={href({ before: page.nextCursor })}>Older →</Link> : null}
    </nav>
  );
}
