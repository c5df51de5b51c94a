import Link from "next/link";
import { formatTime, workspacePath } from "@/app/_components/format";
import { ScopeRequired } from "@/app/_components/scope-required";
import { Snippet } from "@/app/_components/snippet";
import { TagList } from "@/app/_components/tag-list";
import { requireWorkspaceAccess } from "@/app/_server/auth";
import { searchKnowledge } from "@/lib/workspace/search";

export const metadata = { title: "Search · Enclave" };

type Props = { params: Promise<{ workspaceId: string }>; searchParams: Promise<{ q?: string | string[] }> };

export default async function SearchPage({ params, searchParams }: Props) {
  const { workspaceId } = await params;
  const gate = await requireWorkspaceAccess(workspaceId, "search");
  if (!gate.ok) return <ScopeRequired workspaceId={workspaceId} missing={gate} />;
  const raw = (await searchParams).q;
  const q = (typeof raw === "string" ? raw : "").slice(0, 500);
  const results = q.trim() ? await searchKnowledge(gate.access, { q, limit: 20 }) : null;
  return (
    <>
      <h1>Search</h1>
      {/* A plain GET form: works before hydration, and the query lands in the URL to share. */}
      <form method="get" role="search" aria-label="Search knowledge" className="search-form">
        <div className="field">
          <label htmlFor="q">Search knowledge</label>
          <input id="q" name="q" type="search" defaultValue={q} maxLength={500} />
        </div>
        <button type="submit">Search</button>
      </form>
      {results === null ? null : results.length === 0 ? (
        <p role="status">No entries match “{q}”.</p>
      ) : (
        <>
          <p role="status" className="muted">
            {results.length === 1 ? "1 entry matches" : `${results.length} entries match`} “{q}”.
          </p>
          <ol className="results" aria-label="Search results">
            {results.map((hit) => (
              <li key={hit.id}>
                <Link href={workspacePath(workspaceId, "knowledge", hit.id)}>{hit.title}</Link>
                <span className="muted"> · updated {formatTime(hit.updatedAt)}</span>
                <Snippet parts={hit.snippet} />
                <TagList tags={hit.tags} />
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}
