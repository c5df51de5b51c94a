import Link from "next/link";
import { AuditPager, AuditTable } from "@/app/_components/audit-table";
import { Field } from "@/app/_components/field";
import { formatTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { auditPageHref, parseAuditSearch } from "@/app/_server/audit-query";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { readWorkspaceAudit, workspaceChainStatus, type ChainStatus } from "@/lib/workspace/audit-trail";

export const metadata = { title: "Audit · Enclave" };

const PAGE_SIZE = 50;

type Props = { params: Promise<{ workspaceId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

function ChainStatusLine({ status }: { status: ChainStatus }) {
  const checked = <span className="muted"> (checked {formatTime(status.checkedAt)}; newest row #{status.headSeq})</span>;
  if (!status.ok && status.problem) {
    return (
      <p role="alert" className="warning">
        Chain broken at #{status.problem.seq}: {status.problem.reason}. Verified through #{status.verifiedThrough}.{checked}
      </p>
    );
  }
  return (
    <p role="status" className="chain-status">
      {status.verifiedThrough === 0 ? "No rows to verify yet." : `Chain verified through #${status.verifiedThrough}.`}
      {checked}
    </p>
  );
}

/** The workspace's audit trail, for those with the `audit` scope: filters and pages go in the URL, as plain GET links. */
export default async function AuditPage({ params, searchParams }: Props) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "audit");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const search = parseAuditSearch(await searchParams, PAGE_SIZE);
  const [page, status] = await Promise.all([search.query ? readWorkspaceAudit(gate.access, search.query) : null, workspaceChainStatus(gate.access)]);
  const base = workspacePath(workspaceId, "audit");
  const filtered = Object.keys(search.given).length > 0;
  return (
    <>
      <h1>Audit</h1>
      <p className="muted">
        Every write, MCP tool call and refused access in this workspace, newest first. Rows are hash-chained: changing or removing one breaks
        every later hash. <Link href={workspacePath(workspaceId, "audit", "evidence")}>Evidence bundle</Link>
      </p>
      <ChainStatusLine status={status} />
      <form method="get" aria-label="Filter the audit trail" className="audit-filters">
        <Field label="Actor" name="actor" defaultValue={search.given.actor} maxLength={140} placeholder="token:tok_…" errors={search.problems.actor} hint="user:, token:, oauth: or system: and an id" />
        <Field label="Action" name="action" defaultValue={search.given.action} maxLength={80} placeholder="knowledge.*" errors={search.problems.action} hint="An action, or a prefix and .*" />
        <Field label="From" name="from" defaultValue={search.given.from} maxLength={40} placeholder="2026-01-01" errors={search.problems.from} hint="ISO date or date-time" />
        <Field label="To" name="to" defaultValue={search.given.to} maxLength={40} placeholder="2026-03-31" errors={search.problems.to} hint="Inclusive; a date runs to its end (UTC)" />
        <div className="actions">
          <button type="submit">Filter</button>
          {filtered ? <Link href={base}>Clear</Link> : null}
        </div>
      </form>
      {!page ? (
        <p role="alert">
          {[search.problems.after, search.problems.before, search.problems.query].flat().filter(Boolean).join(" ") || "Fix the filters above."}{" "}
          <Link href={base}>Start from the newest rows</Link>.
        </p>
      ) : page.items.length === 0 ? (
        <p className="muted">{filtered ? "No rows match." : "No audit rows yet."}</p>
      ) : (
        <>
          <AuditTable label="Audit trail" rows={page.items} />
          <AuditPager page={page} href={(cursor) => auditPageHref(base, search.given, cursor)} />
        </>
      )}
    </>
  );
}
