import Link from "next/link";
import { notFound } from "next/navigation";
import { DeleteKnowledge } from "@/app/_components/delete-knowledge";
import { FlashNotice } from "@/app/_components/flash-notice";
import { formatTime, isoTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { TagList } from "@/app/_components/tag-list";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { findOrNull } from "@/app/_server/find";
import { getKnowledge } from "@/lib/workspace/knowledge";
import { neighbors } from "@/lib/workspace/links";
import { authorizeWithin, grantCovers } from "@/lib/access/authorize";

export const metadata = { title: "Knowledge entry · Enclave" };

type Props = { params: Promise<{ workspaceId: string; id: string }> };

export default async function KnowledgeEntryPage({ params }: Props) {
  const { workspaceId, id } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const entry = await findOrNull(getKnowledge(gate.access, id));
  if (!entry) notFound();
  const canGraph = grantCovers(gate.access, "graph");
  const canWrite = grantCovers(gate.access, "knowledge");
  const linked = canGraph ? ((await findOrNull(neighbors(authorizeWithin(gate.access, "graph"), id))) ?? []) : [];
  const path = (...segments: string[]) => workspacePath(workspaceId, "knowledge", ...segments);
  return (
    <article aria-labelledby="entry-title">
      <h1 id="entry-title">{entry.title}</h1>
      <FlashNotice />
      <dl className="meta">
        <dt>Author</dt>
        <dd>{entry.author}</dd>
        <dt>Version</dt>
        <dd>{entry.version}</dd>
        <dt>Updated</dt>
        <dd>
          <time dateTime={isoTime(entry.updatedAt)}>{formatTime(entry.updatedAt)}</time>
        </dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={isoTime(entry.createdAt)}>{formatTime(entry.createdAt)}</time>
        </dd>
        {entry.source ? (
          <>
            <dt>Source</dt>
            <dd>{entry.source}</dd>
          </>
        ) : null}
        <dt>Tags</dt>
        <dd>{entry.tags.length ? <TagList tags={entry.tags} /> : <span className="muted">none</span>}</dd>
      </dl>
      {/* Shown as the text it is: Markdown is not rendered, so stored text can never become markup. */}
      <section aria-label="Body">
        <pre className="knowledge-body">{entry.body}</pre>
      </section>
      {canWrite ? (
        <div className="actions">
          <Link href={path(id, "edit")}>Edit</Link>
          <DeleteKnowledge workspaceId={workspaceId} id={id} title={entry.title} />
        </div>
      ) : null}
      {canGraph ? (
        <section aria-labelledby="neighbours-heading">
          <h2 id="neighbours-heading">Linked entries</h2>
          {linked.length === 0 ? (
            <p className="muted">No links to or from this entry.</p>
          ) : (
            <ul className="list" aria-label="Linked entries">
              {linked.map((link) => (
                <li key={`${link.direction}:${link.relation}:${link.id}`}>
                  <span className="muted">{link.direction === "out" ? `${link.relation} →` : `← ${link.relation}`}</span>{" "}
                  <Link href={path(link.id)}>{link.title || link.id}</Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
      <p>
        <Link href={path()}>All knowledge</Link>
      </p>
    </article>
  );
}
