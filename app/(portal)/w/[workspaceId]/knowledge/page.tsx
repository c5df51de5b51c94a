import Link from "next/link";
import { FlashNotice } from "@/app/_components/flash-notice";
import { formatTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { TagList } from "@/app/_components/tag-list";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { HttpError } from "@/lib/http/errors";
import { grantCovers, type WorkspaceAccess } from "@/lib/access/authorize";
import { listKnowledge } from "@/lib/workspace/knowledge";

export const metadata = { title: "Knowledge · Enclave" };

const PAGE_SIZE = 25;

type Props = { params: Promise<{ workspaceId: string }>; searchParams: Promise<{ cursor?: string | string[] }> };

async function pageOf(access: WorkspaceAccess<"search">, cursor: string | undefined) {
  try {
    return await listKnowledge(access, { cursor, limit: PAGE_SIZE });
  } catch (error) {
    // A hand-edited or stale cursor: say so rather than fail the page.
    if (error instanceof HttpError && error.status === 400) return null;
    throw error;
  }
}

export default async function KnowledgeListPage({ params, searchParams }: Props) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const raw = (await searchParams).cursor;
  const cursor = typeof raw === "string" && raw ? raw : undefined;
  const page = await pageOf(gate.access, cursor);
  const base = workspacePath(workspaceId, "knowledge");
  return (
    <>
      <h1>Knowledge</h1>
      <FlashNotice />
      {grantCovers(gate.access, "knowledge") ? (
        <p>
          <Link href={`${base}/new`}>New entry</Link>
        </p>
      ) : null}
      {!page ? (
        <p role="alert">
          That page link is no longer valid. <Link href={base}>Start from the newest entries</Link>.
        </p>
      ) : page.items.length === 0 ? (
        <p className="muted">{cursor ? "No older entries." : "No knowledge entries yet."}</p>
      ) : (
        <ul className="entries" aria-label="Knowledge entries">
          {page.items.map((entry) => (
            <li key={entry.id}>
              <Link href={`${base}/${entry.id}`}>{entry.title}</Link>
              <span className="muted">
                {" "}
                v{entry.version} · updated {formatTime(entry.updatedAt)}
              </span>
              <TagList tags={entry.tags} />
            </li>
          ))}
        </ul>
      )}
      <nav aria-label="Pages" className="pager">
        {cursor ? <Link href={base}>Newest</Link> : null}
        {page?.nextCursor ? <Link href={`${base}?cursor=${encodeURIComponent(page.nextCursor)}`}>Older</Link> : null}
      </nav>
    </>
  );
}
